"""One order is one trace: the webhook's FastAPI span, the client's StartWorkflow, the worker's RunWorkflow,
StartActivity / RunActivity spans, and the marketplace HTTP calls made inside the push activity (in-memory
exporter; the OTLP exporter is the same SDK pipeline configured by OTEL_* variables)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from merchflow.telemetry import tracing
from merchflow.temporal import connect
from tests.stock.conftest import StackFactory
from tests.stock.harness import on_hand, running_worker
from tests.stock.waiting import converged, eventually


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("merchflow-test", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.disable_tracing()  # later tests run without spans (the global provider stays, unused)


def test_tracing_is_off_unless_the_standard_variables_ask() -> None:
    assert not tracing.env_wants_tracing({})
    assert tracing.env_wants_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.env_wants_tracing({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert not tracing.env_wants_tracing(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert not tracing.env_wants_tracing(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}
    )


def _chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    current: ReadableSpan | None = span
    while current is not None:
        names.append(current.name)
        current = by_id.get(current.parent.span_id) if current.parent else None
    return names


async def test_one_order_is_one_trace_from_webhook_to_marketplace_calls(
    spans: InMemorySpanExporter, stack_sqlite: StackFactory
) -> None:
    mps = ("amazon", "shopify")
    async with stack_sqlite(stock={"TRC-1": 9}, marketplaces=mps, worker=False) as st:
        client = await connect(st.settings)  # the one client factory: tracing interceptor included
        async with running_worker(client, st.settings):
            r = await st.sbx.buy("amazon", "TRC-1", 1, order_id="trace-order-1")
            assert r.status_code in (200, 201), r.text
            await eventually(lambda: asyncio.to_thread(on_hand, st.engine, "TRC-1"), lambda v: v == 8)
            await converged(st, ["TRC-1"])

            def finished() -> list[ReadableSpan]:
                return list(spans.get_finished_spans())

            async def probe() -> list[ReadableSpan]:
                return finished()

            await eventually(
                probe, lambda s: any(x.name == "RunWorkflow:order-sync" for x in s), what="workflow span"
            )
        all_spans = list(spans.get_finished_spans())
    starts = {s.context.trace_id for s in all_spans if s.name == "StartWorkflow:order-sync"}
    webhook = [
        s
        for s in all_spans
        if s.kind.name == "SERVER"
        and str(s.attributes.get("http.route", "")).startswith("/api/v1/webhooks/")
        and s.context.trace_id in starts
    ]
    assert webhook, "\n".join(sorted({f"{s.name} {s.kind.name}" for s in all_spans}))
    trace_id = webhook[0].context.trace_id
    trace = [s for s in all_spans if s.context.trace_id == trace_id]
    names = {s.name for s in trace}
    for expected in (
        "StartWorkflow:order-sync",
        "RunWorkflow:order-sync",
        "StartActivity:stock-allocate-order",
        "RunActivity:stock-allocate-order",
        "StartActivity:stock-push-quantities",
        "RunActivity:stock-push-quantities",
    ):
        assert expected in names, (expected, sorted(names))
    by_id = {s.context.span_id: s for s in trace}
    shopify_port = str(st.settings.sandbox.port("shopify"))
    marketplace_calls = [
        s
        for s in trace
        if s.kind.name == "CLIENT"
        and shopify_port in str(s.attributes.get("url.full", s.attributes.get("http.url", "")))
        and "RunActivity:stock-push-quantities" in _chain(s, by_id)
    ]
    assert marketplace_calls, sorted(names)
    chain = _chain(marketplace_calls[0], by_id)
    # child to parent: HTTP call <- push activity run <- its scheduling in the workflow <- StartWorkflow <- webhook
    assert chain[: chain.index(webhook[0].name) + 1] == [
        marketplace_calls[0].name,
        "RunActivity:stock-push-quantities",
        "StartActivity:stock-push-quantities",
        "StartWorkflow:order-sync",
        webhook[0].name,
    ], chain
    # the workflow's own span hangs under the same StartWorkflow
    runs = [s for s in trace if s.name == "RunWorkflow:order-sync"]
    assert runs and all(_chain(run, by_id)[1] == "StartWorkflow:order-sync" for run in runs)
