"""A worker process killed in the middle of a nightly run: another one finishes it, and nothing is decided,
recorded or applied twice. Real `merchflow worker` subprocesses, real Temporal, a real sandbox."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError

from activities.decisions.tables import Decision, DecisionAction
from activities.repricing.tables import PricingHistory, RepriceProposal
from tests.conftest import make_token
from tests.repricing.harness import (
    Item,
    RepriceStack,
    price_effects,
    sandbox_prices,
    set_price_policy,
    wait_for,
)
from tests.stock.harness import spawn_worker
from workflows.repricing.contract import RepriceFilter, RepriceProgress, RepriceRunInput, RepriceRunResult

MP = "woocommerce"


def _count(st: RepriceStack, table: sa.Table) -> int:
    with st.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def _retried_activities(st: RepriceStack, workflow_id: str) -> int:
    """Activities that needed more than one attempt (the killed worker's attempt timed out)."""
    history = await st.client.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    )


async def test_worker_killed_mid_run_then_restarted_finishes_without_duplicates(
    stack_sqlite, tmp_path: Path
) -> None:
    catalog = {f"W-{i:05d}": Item(stock=200 + i % 300) for i in range(1200)}  # all marked down
    async with stack_sqlite(marketplaces=(MP,), catalog=catalog, worker=False) as st:
        set_price_policy(st.engine, "full-auto", threshold=0.0)
        await st.sbx.faults(MP, latency_ms=40)  # pushes take a while: the kill lands mid-run
        log = tmp_path / "worker.log"
        worker = spawn_worker(st.settings, (MP,), log)
        try:
            run_id = "reprice-test-kill-" + st.main_queue[-8:]
            handle = await st.client.start_workflow(
                "reprice-run",
                RepriceRunInput(dry_run=False, batch_size=100, refresh_competitors=False, heartbeat_seconds=3,
                                filters=RepriceFilter()),
                id=run_id, task_queue=st.main_queue, result_type=RepriceRunResult,
            )  # fmt: skip
            child = st.client.get_workflow_handle(f"{run_id}-account-{st.accounts[MP]}")

            async def three_batches() -> bool:
                assert worker.poll() is None, log.read_text()[-3000:]
                try:
                    p = await child.query("progress", result_type=RepriceProgress)
                except RPCError:
                    return False
                return p is not None and p.totals.batches >= 3

            await wait_for(three_batches, timeout=120, every=0.05)
            async with st.api(make_token(st.engine, "viewer")) as api:
                live = (await api.get(f"/api/v1/repricing/runs/{run_id}")).json()
            worker.kill()
            worker.wait(10)
            worker = spawn_worker(st.settings, (MP,), log)
            result = await asyncio.wait_for(handle.result(), 240)
        finally:
            worker.kill()
            worker.wait(10)

        # while it ran, the API showed the account's live progress
        assert live["status"] == "running" and live["phase"] == "pricing", live
        assert (
            live["progress"][0]["account_id"] == st.accounts[MP]
            and live["progress"][0]["totals"]["batches"] >= 3
        )
        t = result.summary.totals
        assert (t.evaluated, t.proposed, t.auto_approved, t.pushed, t.push_failed) == (
            1200,
            1200,
            1200,
            1200,
            0,
        )
        assert await _retried_activities(st, child.id) >= 1  # the kill did hit an activity in flight
        with st.engine.connect() as c:
            props = {r.sku: r for r in c.execute(sa.select(RepriceProposal.__table__))}  # type: ignore[attr-defined]
        assert len(props) == 1200 and {p.status for p in props.values()} == {"pushed"}
        live = await sandbox_prices(st.sbx, MP)
        assert all(live[sku] == Decimal(p.suggested_price) for sku, p in props.items())
        # exactly once: one decision, one action, one history line and one price change per listing
        for table in (Decision, DecisionAction, PricingHistory):
            assert _count(st, table.__table__) == 1200  # type: ignore[attr-defined]
        effects = await price_effects(st.sbx, MP)
        assert len(effects) == 1200 and len({e["entity"] for e in effects}) == 1200
        assert await st.sbx.duplicates(MP) == []
