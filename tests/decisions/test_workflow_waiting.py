"""Waiting durably: expiry, escalation, premise changes, duplicate approvals and worker restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.decisions.errors import DecisionConflict
from activities.decisions.service import decide
from activities.decisions.tables import DecisionOutcome, NotificationOutbox
from activities.repricing.tables import PricingHistory
from merchflow.db.engine import read_session, session_scope
from merchflow.db.models import Product
from tests.decisions.conftest import add_product, make_worker, new_id, price_proposal, set_policy
from tests.decisions.helpers import audit_actions, decision_row, wait_idle, wait_outbox, wait_state
from workflows.decisions.contract import DecisionInput, DecisionResult, decision_workflow_id


async def _start(client, task_queue: str, decision_id: str, proposal):  # type: ignore[no-untyped-def]
    return await client.start_workflow(
        "decision",
        DecisionInput(decision_id=decision_id, proposal=proposal),
        id=decision_workflow_id(decision_id),
        task_queue=task_queue,
        result_type=DecisionResult,
    )


def _set_price(engine, sku: str, price: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        p = s.exec(select(Product).where(Product.sku == sku)).one()
        p.price = Decimal(price)
        s.add(p)


def _history(engine, did: str) -> list[PricingHistory]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return list(s.exec(select(PricingHistory).where(PricingHistory.decision_id == did)).all())


async def test_expires_when_nobody_decides(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(dec_engine, "price_change", timeout_hours=48, on_timeout="expire")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")
        result = await handle.result()  # the test server skips the 48 hours
        with pytest.raises(DecisionConflict, match="already expired"):
            await decide(
                client, decision_id=did, action="approve", actor="late", role="approver", expected_version=1
            )
    assert (result.status, result.executed) == ("expired", False)
    assert audit_actions(dec_engine, did) == ["proposed", "expired"]
    with read_session(dec_engine) as s:
        labels = s.exec(select(DecisionOutcome.outcome).where(DecisionOutcome.decision_id == did)).all()
    assert labels == ["expired"]
    assert _history(dec_engine, did) == []


async def test_escalates_to_the_next_group_then_is_decided(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(
        dec_engine,
        "price_change",
        timeout_hours=24,
        on_timeout="escalate",
        escalation_groups=["approver", "admin"],
    )
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        first = await wait_state(handle, lambda s: s.status == "pending")
        assert (first.escalation_level, first.waiting_on) == (0, "approver")
        await ts_env.sleep(timedelta(hours=25))
        second = await wait_state(handle, lambda s: s.escalation_level == 1)
        assert second.waiting_on == "admin" and second.status == "pending"
        assert second.deadline is not None and first.deadline is not None and second.deadline > first.deadline
        await decide(
            client, decision_id=did, action="approve", actor="boss", role="admin", expected_version=1
        )
        result = await handle.result()
    assert (result.status, result.approver) == ("executed", "boss")
    assert audit_actions(dec_engine, did) == ["proposed", "escalated", "approved", "executed"]
    with read_session(dec_engine) as s:
        notices = s.exec(
            select(NotificationOutbox)
            .where(NotificationOutbox.decision_id == did)
            .order_by(col(NotificationOutbox.id))
        ).all()
    assert [(n.event, n.audience) for n in notices] == [
        ("needs_approval", "approver"),
        ("escalated", "admin"),
    ]
    assert all(n.link and "/approvals/link/" in n.link for n in notices)


async def test_after_the_last_group_it_expires(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(
        dec_engine,
        "price_change",
        timeout_hours=24,
        on_timeout="escalate",
        escalation_groups=["approver", "admin"],
    )
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")
        result = await handle.result()
    assert result.status == "expired"
    assert audit_actions(dec_engine, did) == ["proposed", "escalated", "expired"]


async def test_premise_changed_goes_back_to_pending_with_new_facts(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku, price="20.00")
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku, current="20.00", proposed="19.00"))
        await wait_state(handle, lambda s: s.status == "pending")
        _set_price(dec_engine, sku, "21.00")  # someone repriced in the meantime
        await decide(
            client, decision_id=did, action="approve", actor="alice", role="approver", expected_version=1
        )
        again = await wait_state(handle, lambda s: s.status == "pending" and s.version == 2)
        assert again.current["price"] == "21.0000" and again.approver is None
        assert _history(dec_engine, did) == []  # nothing acted on stale facts
        row = decision_row(dec_engine, did)
        assert (row.status, row.version, row.proposal["current"]["price"]) == ("pending", 2, "21.0000")
        with pytest.raises(DecisionConflict, match="now version 2"):
            await decide(
                client, decision_id=did, action="approve", actor="bob", role="approver", expected_version=1
            )
        await decide(
            client, decision_id=did, action="approve", actor="bob", role="approver", expected_version=2
        )
        result = await handle.result()
    assert (result.status, result.version, result.approver) == ("executed", 2, "bob")
    assert [(h.old_price, h.new_price) for h in _history(dec_engine, did)] == [
        (Decimal("21.0000"), Decimal("19.0000"))
    ]
    assert audit_actions(dec_engine, did) == [
        "proposed",
        "approved",
        "premise_changed",
        "approved",
        "executed",
    ]


async def test_two_concurrent_approvals_act_once(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")
        outcomes = await asyncio.gather(
            *(
                decide(
                    client, decision_id=did, action="approve", actor=who, role="approver", expected_version=1
                )
                for who in ("alice", "bob")
            ),
            return_exceptions=True,
        )
        result = await handle.result()
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], DecisionConflict) and "already approved" in lost[0].message
    assert result.status == "executed"
    assert len(_history(dec_engine, did)) == 1
    assert audit_actions(dec_engine, did).count("approved") == 1


async def test_waits_days_across_a_worker_restart(ts_env: WorkflowEnvironment, deps, dec_engine, task_queue):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(dec_engine, "price_change", timeout_hours=96, on_timeout="expire")
    async with make_worker(client, deps, task_queue, sticky=False):
        handle = await _start(client, task_queue, did, price_proposal(sku))
        await wait_state(handle, lambda s: s.status == "pending")
        await wait_outbox(dec_engine, did, "logged")  # the approvers were told before the worker went away
        await wait_idle(handle)
        # read once the workflow waits on its timer: the deadline shown while the proposal is still being recorded
        # is provisional (the wait starts after that activity), and on a loaded machine the two differ visibly
        before = await wait_state(handle, lambda s: s.status == "pending")
    # no worker at all for three days
    await ts_env.sleep(timedelta(days=3))
    async with make_worker(client, deps, task_queue):
        after = await wait_state(handle, lambda s: s.status == "pending")
        assert after.deadline == before.deadline  # the timer survived; it was not restarted
        await decide(
            client, decision_id=did, action="approve", actor="alice", role="approver", expected_version=1
        )
        result = await handle.result()
    assert result.status == "executed"
    row = decision_row(dec_engine, did)
    assert row.decided_at is not None and row.decided_at - row.created_at >= timedelta(days=3)


async def test_proposal_expiry_wins_over_the_policy_timeout(
    ts_env: WorkflowEnvironment, deps, dec_engine, task_queue
):
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    set_policy(dec_engine, "price_change", timeout_hours=72, on_timeout="escalate")
    now = await ts_env.get_current_time()
    proposal = price_proposal(sku).model_copy(update={"expires_at": now + timedelta(hours=2)})
    async with make_worker(client, deps, task_queue):
        handle = await _start(client, task_queue, did, proposal)
        state = await wait_state(handle, lambda s: s.status == "pending")
        assert state.deadline == proposal.expires_at
        result = await handle.result()
    assert result.status == "expired"
    assert audit_actions(dec_engine, did) == ["proposed", "expired"]
