"""Input no retry can heal ends the decision workflow as failed, with the reason, recorded where people look - it
never leaves a workflow task failing forever with nothing recorded (a stored timeout of 1e308 hours did)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.decisions.conftest import add_product, make_worker, new_id, price_proposal, set_policy
from tests.decisions.helpers import audit_actions, decision_row
from workflows.decisions.contract import DecisionInput, DecisionResult, decision_workflow_id


@pytest.mark.parametrize("timeout_hours", [1e308, 1e7])
async def test_a_policy_whose_deadline_is_no_date_fails_the_decision_with_the_reason(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue, timeout_hours: float
):
    # written straight to the table, as an old release (or a hand edit) could have: the API refuses such values now
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(dec_engine, "price_change", timeout_hours=timeout_hours, on_timeout="expire")
    async with make_worker(ts_env.client, deps, task_queue):
        handle = await ts_env.client.start_workflow(
            "decision",
            DecisionInput(decision_id=did, proposal=price_proposal(sku)),
            id=decision_workflow_id(did),
            task_queue=task_queue,
            result_type=DecisionResult,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "UnusablePolicy"
    assert "price_change" in cause.message and "timeout_hours" in cause.message
    row = decision_row(dec_engine, did)
    assert row is not None and row.status == "failed"
    assert audit_actions(dec_engine, did) == ["failed"]
