"""The decision workflow on the time-skipping server: approve, reject, edit-and-approve, policy outcomes."""

from __future__ import annotations

import concurrent.futures
import threading
from decimal import Decimal

import pytest
from sqlmodel import select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions.activities import DecisionActivities
from activities.decisions.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from activities.decisions.service import decide
from activities.decisions.tables import DecisionOutcome
from activities.repricing.tables import PricingHistory
from merchflow.db.engine import read_session
from merchflow.db.models import Product
from tests.decisions.conftest import WORKFLOWS, add_product, make_worker, new_id, price_proposal, set_policy
from tests.decisions.helpers import audit_actions, decision_row, wait_state
from workers.registry import activity_callables
from workflows.decisions.contract import (
    DecisionInput,
    DecisionResult,
    TransitionInput,
    TransitionResult,
    decision_workflow_id,
)


def _price(engine, sku: str) -> Decimal:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        p = s.exec(select(Product).where(Product.sku == sku)).one()
        assert p.price is not None
        return p.price


async def _start(client, task_queue: str, decision_id: str, proposal):  # type: ignore[no-untyped-def]
    return await client.start_workflow(
        "decision",
        DecisionInput(decision_id=decision_id, proposal=proposal),
        id=decision_workflow_id(decision_id),
        task_queue=task_queue,
        result_type=DecisionResult,
    )


async def test_approve_executes_the_price_change(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku, price="20.00")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        state = await wait_state(handle, lambda s: s.status == "pending")
        assert state.waiting_on == "approver" and state.deadline is not None
        assert decision_row(dec_engine, did).status == "pending"
        decided = await decide(
            client,
            decision_id=did,
            action="approve",
            actor="alice",
            role="approver",
            expected_version=1,
            comment="ok",
        )
        assert decided.status == "approved"
        result = await handle.result()
    assert result.status == "executed" and result.executed and result.approver == "alice"
    assert _price(dec_engine, sku) == Decimal("19.00")
    with read_session(dec_engine) as s:
        history = s.exec(select(PricingHistory).where(PricingHistory.decision_id == did)).all()
        outcomes = s.exec(select(DecisionOutcome).where(DecisionOutcome.decision_id == did)).all()
    assert [(h.old_price, h.new_price, h.approved_by) for h in history] == [
        (Decimal("20.0000"), Decimal("19.0000"), "alice")
    ]
    assert [(o.outcome, o.bucket) for o in outcomes] == [("approved", 0.7)]
    assert audit_actions(dec_engine, did) == ["proposed", "approved", "executed"]
    row = decision_row(dec_engine, did)
    assert (row.status, row.approver, row.comment) == ("executed", "alice", "ok")
    assert row.executed_at is not None and row.decided_at is not None


async def test_reject_does_not_act(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku, price="20.00")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")
        with pytest.raises(DecisionForbidden):
            await decide(
                client, decision_id=did, action="reject", actor="v", role="viewer", expected_version=1
            )
        await decide(
            client, decision_id=did, action="reject", actor="bob", role="approver", expected_version=1
        )
        result = await handle.result()
        # a closed decision says who closed it
        with pytest.raises(DecisionConflict, match="already rejected by bob"):
            await decide(
                client, decision_id=did, action="approve", actor="al", role="admin", expected_version=1
            )
    assert (result.status, result.executed) == ("rejected", False)
    assert _price(dec_engine, sku) == Decimal("20.00")
    assert audit_actions(dec_engine, did) == ["proposed", "rejected"]


async def test_edit_then_approve_uses_the_edited_value(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku, price="20.00")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku, proposed="17.00"))
        await wait_state(handle, lambda s: s.status == "pending")
        with pytest.raises(DecisionInvalid):
            await decide(
                client,
                decision_id=did,
                action="edit_approve",
                actor="c",
                role="approver",
                expected_version=1,
                edited_value={"price": "-1"},
            )
        with pytest.raises(DecisionConflict, match="now version 1"):
            await decide(
                client, decision_id=did, action="approve", actor="c", role="approver", expected_version=2
            )
        await decide(
            client,
            decision_id=did,
            action="edit_approve",
            actor="carol",
            role="approver",
            expected_version=1,
            edited_value={"price": "18.50"},
        )
        result = await handle.result()
    assert result.status == "executed"
    assert _price(dec_engine, sku) == Decimal("18.50")
    assert decision_row(dec_engine, did).proposal["proposed"] == {"price": "18.50"}
    assert audit_actions(dec_engine, did) == ["proposed", "edited", "executed"]


async def test_manual_mode_only_records(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(dec_engine, "price_change", mode="manual")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku, confidence=0.99))
        result = await handle.result()
    assert (result.status, result.executed) == ("recommended", False)
    assert _price(dec_engine, sku) == Decimal("20.00")


async def test_full_auto_above_threshold_acts_without_a_human(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(
        dec_engine, "price_change", mode="full-auto", threshold=0.8, guardrails={"max_price_change_pct": 10}
    )
    async with make_worker(client, deps, task_queue):
        result = await (await _start(client, task_queue, did, price_proposal(sku, confidence=0.9))).result()
    assert (result.status, result.approver) == ("executed", "policy")
    assert _price(dec_engine, sku) == Decimal("19.00")
    assert audit_actions(dec_engine, did) == ["proposed", "auto_approved", "executed"]


class _SlowProposalRecord(DecisionActivities):
    """Holds the recording of "proposed" until released, so a person can decide before the wait begins."""

    def __init__(self, deps, release: threading.Event) -> None:  # type: ignore[no-untyped-def]
        super().__init__(deps)
        self.release = release

    @activity.defn(name="decision.record_transition")
    def record_transition(self, inp: TransitionInput) -> TransitionResult:
        if inp.action == "proposed":
            self.release.wait(timeout=60)
        return super().record_transition(inp)


async def test_a_rejection_before_the_wait_begins_ends_the_decision_unexecuted(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku, price="20.00")
    release = threading.Event()
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activity_callables(_SlowProposalRecord(deps, release)),
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=4),
    )
    async with worker:
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")  # still recording "proposed"
        await decide(
            client, decision_id=did, action="reject", actor="bob", role="approver", expected_version=1
        )
        release.set()
        result = await handle.result()
    assert (result.status, result.executed) == ("rejected", False)
    assert _price(dec_engine, sku) == Decimal("20.00")
    assert "executed" not in audit_actions(dec_engine, did)
