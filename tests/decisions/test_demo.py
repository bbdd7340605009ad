"""Demo decisions for `merchflow up`: started once, waiting for a human, decidable."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.decisions.demo import start_demo_decisions
from activities.decisions.service import decide
from merchflow.db.engine import engine_for, read_session
from merchflow.db.models import Product
from merchflow.seed import seed_demo
from merchflow.settings import Settings
from merchflow.startup import steps
from tests.decisions.conftest import make_worker, with_handlers
from tests.decisions.helpers import decision_row, wait_state
from workers.deps import Deps
from workers.registry import decision_types
from workflows.decisions.contract import DecisionState, decision_workflow_id


async def test_demo_decisions_are_idempotent_and_wait(temporal_env: WorkflowEnvironment, deps: Deps) -> None:
    settings: Settings = deps.settings.model_copy(
        update={
            "temporal": deps.settings.temporal.model_copy(
                update={"task_queue_prefix": f"demo-{uuid.uuid4().hex[:6]}"}
            )
        }
    )
    seed_demo(engine_for(settings.sqlalchemy_url))
    client, prefix = temporal_env.client, f"{uuid.uuid4().hex[:6]}-"
    assert await start_demo_decisions(client, settings, id_prefix=prefix) == 4
    assert await start_demo_decisions(client, settings, id_prefix=prefix) == 0
    async with make_worker(
        client,
        with_handlers(Deps(settings=settings, engine=deps.engine, blobs=deps.blobs)),
        settings.task_queue("main"),
    ):
        ids = ["demo-price-headphones", "demo-price-mug", "demo-price-lamp", "demo-listing-book"]
        for did in ids:
            handle = client.get_workflow_handle(decision_workflow_id(prefix + did))
            state: DecisionState = await wait_state(handle, lambda s: s.status == "pending")
            assert state.version == 1
        rows = {did: decision_row(deps.engine, prefix + did) for did in ids}
        # only types that really execute: price changes, for a product and for one marketplace listing
        assert {r.decision_type for r in rows.values()} == {
            "price_change"
        } and "price_change" in decision_types()
        assert rows["demo-price-lamp"].proposal["current"]["price"] == "34.9000"
        listing = rows["demo-listing-book"].proposal
        assert listing["current"]["account_id"] and listing["marketplace"] in (
            "amazon",
            "ebay",
            "shopify",
            "woocommerce",
        )
        for row in rows.values():  # the approver sees what approving is worth
            assert row.proposal["expected_effect"]["revenue_delta"] and row.proposal["currency"] == "USD"
        await decide(
            client,
            decision_id=prefix + "demo-price-mug",
            action="approve",
            actor="a",
            role="approver",
            expected_version=1,
        )
        result = await client.get_workflow_handle(decision_workflow_id(prefix + "demo-price-mug")).result()
    assert result["status"] == "executed" and result["action_result"]["new_price"] == "13.49"
    with read_session(deps.engine) as session:
        assert session.exec(select(Product.price).where(Product.sku == "DEMO-MUG-02")).one() == Decimal(
            "13.49"
        )
    assert "activities.decisions.demo:demo_decisions_step" in steps()
