"""`merchflow up`'s repricing demo step on the demo catalog: history and competitor prices seeded once, a dry run
started once, its result readable through the API. Real Temporal, the four sandboxes with their demo catalog."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.repricing.demo import DEMO_RUN_ID, demo_repricing_step, seed_competitors, seed_history
from activities.repricing.tables import CompetitorPrice, DemandModelRow, PricingHistory
from activities.stock.tables import StockLedgerEntry
from merchflow.db.engine import make_engine
from merchflow.db.types import utcnow
from merchflow.seed import DEMO_PRODUCTS, seed_demo
from tests.conftest import make_token
from tests.repricing.harness import MARKETPLACES, running_worker
from tests.stock.harness import make_settings, serve_api, serve_sandboxes
from workflows.repricing.contract import RepriceRunResult


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def test_demo_step_seeds_once_and_its_dry_run_is_readable_through_the_api(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    settings = make_settings(tmp_path / "data", db_url=sqlite_url,
                             temporal_target=client.service_client.config.target_host)  # fmt: skip
    settings.seed_demo = True
    engine = make_engine(sqlite_url)
    seed_demo(engine)
    with contextlib.ExitStack() as servers:
        servers.enter_context(serve_sandboxes(settings, MARKETPLACES))
        servers.enter_context(serve_api(settings))
        async with running_worker(client, settings):
            await demo_repricing_step(settings)
            tables = (PricingHistory.__table__, StockLedgerEntry.__table__, CompetitorPrice.__table__)  # type: ignore[attr-defined]
            counts = [_count(engine, t) for t in tables]
            # a second start-up adds nothing and starts no second run
            assert seed_history(engine, now=utcnow()) == 0 and seed_competitors(engine, now=utcnow()) == 0
            await demo_repricing_step(settings)
            assert [_count(engine, t) for t in tables] == counts
            result = await client.get_workflow_handle(DEMO_RUN_ID, result_type=RepriceRunResult).result()
            token = make_token(engine, "viewer")
            async with httpx.AsyncClient(
                base_url=settings.base_url, headers={"authorization": f"Bearer {token}"}
            ) as api:
                run = (await api.get(f"/api/v1/repricing/runs/{DEMO_RUN_ID}")).json()
                proposals = (await api.get(f"/api/v1/repricing/runs/{DEMO_RUN_ID}/proposals")).json()
    assert counts[0] == 26 * len(DEMO_PRODUCTS)  # weekly price history, half a year
    assert result.summary.dry_run and result.summary.status == "completed"
    assert run["status"] == "completed" and run["summary"]["evaluated"] == 4 * len(DEMO_PRODUCTS)
    assert run["summary"]["expected_revenue_delta_per_day"] is not None
    assert proposals["total"] == run["summary"]["proposed"] > 0
    with engine.connect() as c:
        model = c.execute(sa.select(DemandModelRow.__table__)).one()  # type: ignore[attr-defined]
    assert {"Electronics", "Home & Kitchen"} <= set(model.elasticity)  # learnt from the seeded history
    assert any("demand model" in p["reasoning"] for p in proposals["items"])
    engine.dispose()
