"""Demo decisions for `merchflow up`: started once, waiting for a human, decidable."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from merchflow.db.engine import engine_for
from merchflow.decisions.demo import start_demo_decisions
from merchflow.decisions.payloads import DecisionState
from merchflow.decisions.service import decide, decision_workflow_id
from merchflow.seed import seed_demo
from merchflow.settings import Settings
from merchflow.startup import STEPS
from tests.decisions.conftest import make_worker
from tests.decisions.helpers import decision_row, wait_state
from workers.deps import Deps


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
    assert await start_demo_decisions(client, settings, id_prefix=prefix) == 5
    assert await start_demo_decisions(client, settings, id_prefix=prefix) == 0
    async with make_worker(
        client, Deps(settings=settings, engine=deps.engine, blobs=deps.blobs), settings.task_queue("main")
    ):
        ids = [
            "demo-price-headphones",
            "demo-price-mug",
            "demo-price-lamp",
            "demo-listing-book",
            "demo-purchase-cables",
        ]
        for did in ids:
            handle = client.get_workflow_handle(decision_workflow_id(prefix + did))
            state: DecisionState = await wait_state(handle, lambda s: s.status == "pending")
            assert state.version == 1
        assert decision_row(deps.engine, prefix + "demo-price-lamp").proposal["current"]["price"] == "34.9000"
        await decide(
            client,
            decision_id=prefix + "demo-listing-book",
            action="approve",
            actor="a",
            role="approver",
            expected_version=1,
        )
        result = await client.get_workflow_handle(decision_workflow_id(prefix + "demo-listing-book")).result()
    assert result["status"] == "executed" and result["action_result"]["recorded"] is True
    assert "merchflow.decisions.demo:demo_decisions_step" in STEPS
