"""The worker's `/metrics`: merchflow's business series plus the Temporal SDK's own runtime metrics (buffered into
the same registry, merchflow.telemetry.sdk_metrics) on one port, so Prometheus scrapes one target per worker
process. Several workers on one machine take the first free port of
[metrics.worker_port, metrics.worker_port + metrics.worker_port_span) and log the one they got.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio.runtime import MetricBuffer

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.telemetry.sdk_metrics import SdkMetrics

log = get_logger(__name__)


def _handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404)
                return
            body = generate_latest(REGISTRY)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes every 15 s: not worth a line
            pass

    return Handler


def bind_first_free(
    host: str, first: int, span: int, handler: type[BaseHTTPRequestHandler]
) -> ThreadingHTTPServer:
    last: OSError | None = None
    for port in range(first, first + span):
        try:
            return ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            last = exc
    raise OSError(f"no free metrics port in {host}:{first}-{first + span - 1}: {last}")


_sdk: SdkMetrics | None = None  # one per process: the SDK runtime is process-wide too


@dataclass
class WorkerTelemetry:
    sdk_config: MetricBuffer | None = None
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int | None:
        return self.server.server_address[1] if self.server else None

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def start_worker_telemetry(settings: Settings) -> WorkerTelemetry:
    """Call before the process's first Temporal client: the SDK's metrics are part of its runtime."""
    global _sdk
    from merchflow.telemetry.tracing import setup_tracing

    setup_tracing("merchflow-worker")
    m = settings.metrics
    if not m.enabled or m.worker_port == 0:
        return WorkerTelemetry()
    try:
        server = bind_first_free(m.worker_host, m.worker_port, m.worker_port_span, _handler())
    except OSError as exc:
        log.warning("worker metrics endpoint not started", error=str(exc))
        return WorkerTelemetry()
    if _sdk is None:
        _sdk = SdkMetrics()
        REGISTRY.register(_sdk)
        _sdk.start()
    sdk = _sdk.buffer
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("worker metrics", url=f"http://{m.worker_host}:{server.server_address[1]}/metrics")
    return WorkerTelemetry(sdk_config=sdk, server=server)
