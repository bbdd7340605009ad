"""Small helpers shared by the decision workflow tests."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from sqlmodel import col, select
from temporalio.client import WorkflowHandle

from activities.decisions.tables import Decision
from merchflow.db.engine import read_session
from merchflow.db.models import AuditLog
from workflows.decisions.contract import DecisionState


async def wait_state(handle: WorkflowHandle, predicate, timeout: float = 90) -> DecisionState:  # type: ignore[type-arg]
    """Polls the `state` query until predicate(state) holds (the workflow runs on its own); a deadline in seconds,
    not a count of polls, so a loaded machine waits longer instead of failing."""
    state = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = await handle.query("state", result_type=DecisionState)
            if predicate(state):
                return state
        except Exception:  # the first workflow task has not run yet
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"state never matched in {timeout:g} s; last: {state}")


def audit_actions(engine: sa.Engine, decision_id: str) -> list[str]:
    with read_session(engine) as s:
        rows = s.exec(
            select(AuditLog).where(AuditLog.entity_id == decision_id).order_by(col(AuditLog.id))
        ).all()
        return [r.action for r in rows]


def decision_row(engine: sa.Engine, decision_id: str) -> Decision:
    with read_session(engine) as s:
        row = s.get(Decision, decision_id)
        assert row is not None
        return row


async def wait_idle(handle: WorkflowHandle, attempts: int = 400) -> None:  # type: ignore[type-arg]
    """Until the workflow only waits on its timer: no activity or workflow task in flight. The time-skipping
    server does not skip time while a task is outstanding, so stopping the worker earlier would stall it."""
    quiet = 0
    for _ in range(attempts):
        raw = (await handle.describe()).raw_description
        idle = not raw.pending_activities and not raw.HasField("pending_workflow_task")
        # several quiet looks in a row: between an activity's completion and the next task there can be a
        # moment where neither shows
        quiet = quiet + 1 if idle else 0
        if quiet >= 5:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("workflow never became idle")


async def wait_outbox(engine: sa.Engine, decision_id: str, status: str, attempts: int = 400) -> None:
    from activities.decisions.tables import NotificationOutbox

    for _ in range(attempts):
        with read_session(engine) as s:
            row = s.exec(
                select(NotificationOutbox).where(NotificationOutbox.decision_id == decision_id)
            ).first()
        if row is not None and row.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {status} notification for {decision_id}")
