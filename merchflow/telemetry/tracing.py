"""OpenTelemetry tracing, off by default. On when the standard variables ask for it:

    OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318     (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    OTEL_TRACES_EXPORTER=otlp | console | none             (optional; none turns it off again)
    OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, ...   (read by the SDK itself)

Then one order is one trace: the webhook's FastAPI span, the Temporal client's StartWorkflow span, the worker's
RunWorkflow / StartActivity / RunActivity spans (temporalio's TracingInterceptor carries the context in Temporal
headers), and an httpx client span for every marketplace call made inside the activities.
"""

from __future__ import annotations

import os
from typing import Any

from merchflow.logging import get_logger

log = get_logger(__name__)

_state: dict[str, Any] = {"enabled": False, "provider": None}


def env_wants_tracing(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").lower()
    if exporter == "none":
        return False
    if exporter == "console":
        return True
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service_name: str, *, exporter: Any = None) -> bool:
    """Idempotent per process. `exporter` (tests): export there synchronously instead of what the env says."""
    if _state["enabled"]:
        return True
    if exporter is None and not env_wants_tracing():
        return False
    if _state["provider"] is not None:
        raise RuntimeError("tracing was shut down in this process and cannot be set up again")
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)}),
        sampler=_switchable(TracerProvider().sampler),  # the sampler OTEL_TRACES_SAMPLER asks for, while on
    )
    trace.set_tracer_provider(provider)  # once per process: the API allows no second global provider
    _state["provider"] = provider
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint, headers: OTEL_* env
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _state["enabled"] = True
    log.info("tracing on", service=service_name)
    return True


def _switchable(inner: Any) -> Any:
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class Switchable(Sampler):
        """Samples as `inner` while tracing is on; drops every span once it is off, so spans of anything still
        instrumented never reach a processor (a shut-down processor would warn about each one)."""

        def should_sample(self, parent_context: Any, trace_id: int, name: str, *args: Any, **kw: Any) -> Any:
            if not _state["enabled"]:
                return SamplingResult(Decision.DROP)
            return inner.should_sample(parent_context, trace_id, name, *args, **kw)

        def get_description(self) -> str:
            return f"Switchable({inner.get_description()})"

    return Switchable()


def disable_tracing() -> None:
    """Tests: stop tracing in this process. The global provider cannot be replaced: it stays, with its sampler
    dropping every span and its processors flushed and shut down. Tracing cannot be set up again."""
    if not _state["enabled"]:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().uninstrument()
    _state["enabled"] = False
    _state["provider"].shutdown()


def tracing_enabled() -> bool:
    return bool(_state["enabled"])


def client_interceptors() -> list[Any]:
    """For the one client factory: the SDK's tracing interceptor when tracing is on (workers built on the client
    get it too)."""
    if not _state["enabled"]:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument_app(app: Any) -> None:
    """FastAPI server spans (the webhook is where an order's trace starts)."""
    if not _state["enabled"]:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_state["provider"], excluded_urls="healthz,readyz,metrics"
    )
