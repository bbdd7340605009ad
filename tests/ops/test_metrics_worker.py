"""A real `merchflow worker` process serves /metrics on the port from settings: merchflow's business series and
the Temporal SDK's runtime metrics on one endpoint, and they move when an order is synced. A second worker on
the same machine takes the next port instead of failing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from merchflow.settings import Settings
from tests.ops.metrics_support import families, value
from tests.stock.conftest import StackFactory
from tests.stock.harness import ROOT, on_hand, settings_env
from tests.stock.waiting import converged, eventually
from tests.support.servers import free_port


def spawn(settings: Settings, mps: tuple[str, ...], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = settings_env(settings, mps) | {
        "MERCHFLOW_METRICS__WORKER_PORT": str(port),
        "MERCHFLOW_METRICS__WORKER_PORT_SPAN": "4",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", "worker", "--queue", "main"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def scrape(url: str) -> str:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(url)
            return r.text if r.status_code == 200 else ""
    except httpx.HTTPError:
        return ""


async def test_worker_metrics_move_when_an_order_is_synced(
    stack_sqlite: StackFactory, tmp_path: Path
) -> None:
    mps = ("amazon", "shopify")
    port = free_port()
    async with stack_sqlite(stock={"MET-1": 20}, marketplaces=mps, worker=False) as st:
        workers = [spawn(st.settings, mps, port, tmp_path / f"w{n}.log") for n in range(2)]
        try:
            urls = [f"http://127.0.0.1:{port}/metrics", f"http://127.0.0.1:{port + 1}/metrics"]
            before = await eventually(
                lambda: scrape(urls[0]),
                lambda t: "merchflow_orders_synced" in t,
                timeout=90,
                what="worker metrics up",
            )
            # the second worker found the first port taken and serves on the next one
            await eventually(
                lambda: scrape(urls[1]),
                lambda t: "merchflow_orders_synced" in t,
                timeout=90,
                what="second worker's metrics",
            )

            r = await st.sbx.buy("amazon", "MET-1", 2, order_id="metrics-order-1")
            assert r.status_code in (200, 201), r.text
            await eventually(lambda: asyncio.to_thread(on_hand, st.engine, "MET-1"), lambda v: v == 18)
            await converged(st, ["MET-1"])

            async def both() -> str:
                return "".join([await scrape(u) for u in urls])

            def moved(text: str) -> bool:
                return (
                    value(text, "merchflow_orders_synced_total", marketplace="amazon", status="allocated")
                    == 1
                    and value(text, "merchflow_order_sync_latency_seconds_count", marketplace="shopify") >= 1
                    and value(text, "merchflow_stock_pushes_total", marketplace="shopify", outcome="applied")
                    >= 1
                    and value(
                        text, "merchflow_marketplace_requests_total", marketplace="shopify", outcome="ok"
                    )
                    >= 1
                )

            after = await eventually(both, moved, timeout=60, what="business metrics after the order")
            assert value(before, "merchflow_orders_synced_total") == 0
            # the SDK's own runtime metrics come through the same endpoint
            sdk = {f for f in families(after) if f.startswith("temporal_")}
            assert {"temporal_workflow_completed", "temporal_activity_execution_latency"} <= sdk, sorted(sdk)
            assert value(after, "temporal_workflow_completed_total", workflow_type="order-sync") >= 1
            pushes = value(
                after, "temporal_activity_execution_latency_count", activity_type="stock-push-quantities"
            )
            assert pushes >= 1
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(30)
