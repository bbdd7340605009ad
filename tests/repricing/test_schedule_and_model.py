"""The nightly schedule starts a run; the demand model learns from the pricing history and the sales in the stock
ledger, is stored with its validation error, and prices use it. Real Temporal, real sandboxes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.repricing.tables import DemandModelRow, PricingHistory, RepriceProposal, RepriceRun
from activities.stock.tables import StockLedgerEntry
from domain.repricing.demand import synthetic_history
from merchflow.db.types import utcnow
from merchflow.schedules import ensure_schedules, schedule_for
from tests.repricing.harness import Item, RepriceStack, sandbox_prices, wait_for
from workflows.repricing.contract import RepriceRunResult, TrainInput, TrainResult
from workflows.repricing.schedules import definitions


async def test_the_nightly_schedule_starts_a_real_run_when_it_fires(stack_sqlite) -> None:
    async with stack_sqlite(marketplaces=("woocommerce",), time_zone="Europe/Berlin") as st:
        d = definitions(st.settings)[0]
        assert (d.workflow, d.spec.cron_expressions, d.spec.time_zone_name) == (
            "reprice-run", ["0 2 * * *"], "Europe/Berlin",
        )  # fmt: skip
        sid = f"reprice-nightly-test-{uuid.uuid4().hex[:8]}"
        handle = await st.client.create_schedule(sid, schedule_for(st.settings, replace(d, schedule_id=sid)))
        try:
            desc = await handle.describe()
            assert desc.schedule.spec.time_zone_name == "Europe/Berlin"
            await handle.trigger()

            async def started() -> list:  # type: ignore[type-arg]
                return list((await handle.describe()).info.recent_actions)

            action = (await wait_for(started, timeout=30))[0].action
            run = st.client.get_workflow_handle(action.workflow_id, result_type=RepriceRunResult)
            result = await run.result()
        finally:
            await handle.delete()
        assert action.workflow_id.startswith(sid)
        summary = result.summary
        # a real run under the default semi-auto policy: everything waits for a person, nothing went live
        assert (summary.status, summary.dry_run, summary.totals.proposed, summary.totals.pending) == (
            "completed", False, 4, 4,
        )  # fmt: skip
        with st.engine.connect() as c:
            run = c.execute(sa.select(RepriceRun.__table__)).one()  # type: ignore[attr-defined]
        assert run.id == action.workflow_id and run.filters["requested_by"] == "schedule"
        assert (await sandbox_prices(st.sbx, "woocommerce"))["RP-HIGH"] == 40


async def test_schedules_are_created_idempotently_at_start_up(stack_sqlite) -> None:
    async with stack_sqlite(marketplaces=("woocommerce",), worker=False) as st:
        first = await ensure_schedules(st.client, st.settings)
        try:
            again = await ensure_schedules(st.client, st.settings)
            assert first == again and {"reprice-nightly", "demand-model-weekly"} <= set(first)
            weekly = await st.client.get_schedule_handle("demand-model-weekly").describe()
            assert weekly.schedule.action.workflow == "demand-model-train"  # type: ignore[union-attr]
            assert definitions(st.settings)[1].spec.cron_expressions == ["0 3 * * 0"]
        finally:
            for sid in first:
                await st.client.get_schedule_handle(sid).delete()


def _seed_history(st: RepriceStack, skus: list[str], *, weeks: int, elasticity: float) -> None:
    """Weekly prices (pricing history) and the units they sold (sales in the stock ledger) with a known demand
    response, ending now."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"sku": skus, "category": "Gadgets", "price": 40.0})
    h = synthetic_history(frame, periods=weeks, rng=rng, elasticity={"Gadgets": elasticity})
    now, account = utcnow(), next(iter(st.accounts.values()))
    prices, sales, last = [], [], {s: 40.0 for s in skus}
    for r in h.itertuples(index=False):
        start = now - timedelta(days=7 * (weeks - r.period), hours=-1)  # inside its training week
        prices.append({"sku": r.sku, "account_id": account, "old_price": round(last[r.sku], 2),
                       "new_price": round(r.price, 2), "reason": "history", "created_at": start})  # fmt: skip
        last[r.sku] = r.price
        if r.units:
            sales.append({"sku": r.sku, "kind": "sale", "quantity": -int(r.units), "reserved_delta": 0,
                          "source_marketplace": "woocommerce", "created_at": start + timedelta(days=3)})  # fmt: skip
    with st.engine.begin() as c:
        c.execute(sa.insert(PricingHistory.__table__), prices)  # type: ignore[attr-defined]
        c.execute(sa.insert(StockLedgerEntry.__table__), sales)  # type: ignore[attr-defined]


async def test_the_demand_model_learns_from_history_and_prices_use_it(stack_sqlite) -> None:
    catalog = {f"G-{i:03d}": Item(stock=450, category="Gadgets") for i in range(60)}
    async with stack_sqlite(marketplaces=("woocommerce",), catalog=catalog) as st:
        _seed_history(st, list(catalog), weeks=20, elasticity=-2.5)
        # no model yet: the run trains one first, then prices with it
        result = await st.run(dry_run=True, wid="reprice-test-model-" + st.main_queue[-8:])
        assert result.summary.totals.proposed == 60
        with st.engine.connect() as c:
            model = c.execute(sa.select(DemandModelRow.__table__)).one()  # type: ignore[attr-defined]
            reasons = [r[0] for r in c.execute(sa.select(RepriceProposal.reasoning))]  # type: ignore[call-overload]
        assert model.active and model.rows == 60 * 20
        assert -3.2 < model.elasticity["Gadgets"] < -1.8
        assert model.validation_mae_log is not None and model.validation_mape is not None
        assert all("demand model (elasticity" in r for r in reasons)

        # the weekly retrain: a new active model, the old one kept for comparison
        trained = await st.client.execute_workflow(
            "demand-model-train", TrainInput(), id=f"train-{uuid.uuid4().hex[:8]}", task_queue=st.main_queue,
            result_type=TrainResult,
        )  # fmt: skip
        assert (
            trained.model_id is not None and trained.categories == 1 and trained.validation_mape is not None
        )
        with st.engine.connect() as c:
            rows = c.execute(
                sa.select(DemandModelRow.id, DemandModelRow.active).order_by(DemandModelRow.id)
            ).all()  # type: ignore[call-overload]
        assert [r.active for r in rows] == [False, True] and rows[-1].id == trained.model_id
