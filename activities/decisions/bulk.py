"""The bulk path: many decisions as database rows, without a workflow each.

When which path:
- **workflow path** (`decision` child workflow, one per decision): a process proposes a handful of decisions
  and wants to wait for each (timers, escalation, the `decide` update, a result to its parent). Listing,
  purchase and single price decisions.
- **bulk path** (this module): a job proposes thousands (repricing up to 100,000). Rows are inserted in one
  activity (`create_pending`), approved or rejected by a guarded row update (`decide_rows`: status still
  pending and version as seen), and executed in pages by ONE `decision-batch-execute` workflow that the
  approve call starts or nudges (`kick_batch_executor`). Expiry is checked by that workflow and at decide
  time; there is no per-decision escalation on this path, one summary notice per batch instead.
A row's `workflow_id` tells them apart (NULL: bulk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select
from temporalio.client import Client

from activities.decisions.actions import ActionHandler, execute
from activities.decisions.deciding import decide_rows, expire_row
from activities.decisions.repository import ENTITY, get_policy
from activities.decisions.store import audit
from activities.decisions.tables import Decision
from domain.decisions.rules import (
    APPROVED,
    AUTO_APPROVED,
    FAILED,
    PENDING,
    Policy,
    Proposal,
    evaluate,
    next_status,
)
from merchflow.db.bulk import execute_many
from merchflow.db.models import AuditLog
from workflows.decisions.contract import (
    BATCH_EXECUTOR_ID,
    BATCH_SIGNAL,
    BATCH_WORKFLOW,
    BulkCreateResult,
    BulkItem,
    ExecuteInput,
    FollowUp,
    PageResult,
    action_key,
)

__all__ = [
    "create_pending",
    "create_with_policies",
    "decide_rows",
    "execute_page",
    "expire_overdue",
    "insert_decisions",
]
_D = Decision.__table__  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]


def create_pending(
    session: Session,
    items: Sequence[BulkItem],
    *,
    policies: dict[str, Policy],
    now: datetime,
    actor: str = "system",
    chunk: int = 1000,
) -> BulkCreateResult:
    """Inserts decisions evaluated against their policy (pending / recommended / auto_approved) with one
    audit line each. Idempotent by decision id."""
    created, _ = insert_decisions(session, items, policies=policies, now=now, actor=actor, chunk=chunk)
    session.flush()
    by_status: dict[str, int] = {}
    for status in created.values():
        by_status[status] = by_status.get(status, 0) + 1
    return BulkCreateResult(created=len(created), skipped=len(items) - len(created), by_status=by_status)


def insert_decisions(
    session: Session,
    items: Sequence[BulkItem],
    *,
    policies: dict[str, Policy],
    now: datetime,
    actor: str = "system",
    chunk: int = 5000,
) -> tuple[dict[str, str], dict[str, str]]:
    """`create_pending`'s work: (id -> initial status of the decisions inserted now, id -> stored status of those
    that existed already), so a caller acting on the new statuses reads nothing back. Core inserts: thousands of
    rows per call, without the ORM's per-row unit of work."""
    created: dict[str, str] = {}
    existed: dict[str, str] = {}
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        found = session.execute(
            sa.select(_D.c.id, _D.c.status).where(_D.c.id.in_([i.decision_id for i in part]))
        )
        existing = {r.id: r.status for r in found}
        existed.update(existing)
        rows, audits = [], []
        for item in part:
            if item.decision_id in existing or item.decision_id in created:
                continue
            p = item.proposal
            verdict = evaluate(p, policies[p.decision_type])
            status = created[item.decision_id] = verdict.initial_status
            auto = status == AUTO_APPROVED
            rows.append(
                {
                    "id": item.decision_id,
                    "decision_type": p.decision_type,
                    "subject": p.subject,
                    "marketplace": p.marketplace,
                    "proposal": p.model_dump(mode="json"),
                    "confidence": p.confidence,
                    "status": status,
                    "version": 1,
                    "approver": "policy" if auto else None,
                    "workflow_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "decided_at": now if auto else None,
                    "expires_at": p.expires_at,
                }
            )
            audits.append(
                {
                    "at": now,
                    "actor": p.requested_by or actor,
                    "action": "proposed",
                    "entity_type": ENTITY,
                    "entity_id": item.decision_id,
                    "details": {
                        "status": status,
                        "version": 1,
                        "verdict": verdict.model_dump(),
                        "bulk": True,
                    },
                }
            )
        execute_many(session, sa.insert(_D), rows)
        execute_many(session, sa.insert(_A), audits)
    return created, existed


def create_with_policies(
    session: Session, items: Sequence[BulkItem], *, now: datetime, actor: str = "system"
) -> BulkCreateResult:
    """`create_pending` with each type's stored (or default) policy."""
    types = {i.proposal.decision_type for i in items}
    policies = {t: get_policy(session, t).to_policy() for t in types}
    return create_pending(session, items, policies=policies, now=now, actor=actor)


def expire_overdue(session: Session, *, now: datetime, limit: int = 5000) -> int:
    rows = session.exec(
        select(Decision)
        .where(
            Decision.status == PENDING, col(Decision.workflow_id).is_(None), col(Decision.expires_at) <= now
        )
        .limit(limit)
    ).all()
    for row in rows:
        expire_row(session, row, now)
    session.flush()
    return len(rows)


def execute_page(
    session: Session, *, after_id: str, limit: int, handler_for: Callable[[str], ActionHandler], now: datetime
) -> PageResult:
    """Acts on approved workflow-less rows with id > cursor, each in a savepoint so one bad row does not
    undo the page. Idempotency key per decision version, exactly like the workflow path."""
    rows = session.exec(
        select(Decision)
        .where(
            col(Decision.status).in_([APPROVED, AUTO_APPROVED]),
            col(Decision.workflow_id).is_(None),
            col(Decision.id) > after_id,
        )
        .order_by(col(Decision.id))
        .limit(limit)
    ).all()
    result = PageResult(next_cursor=rows[-1].id if rows else after_id, done=len(rows) < limit)
    for row in rows:
        try:
            proposal = Proposal.model_validate(row.proposal)
        except ValidationError as exc:
            # written before proposals were checked (e.g. an infinite price): it fails, visibly, and the page goes on
            _fail_unreadable(session, row, exc, now)
            result.failed += 1
            continue
        req = ExecuteInput(
            decision_id=row.id,
            version=row.version,
            idempotency_key=action_key(row.id, row.version),
            proposal=proposal,
            approver=row.approver,
        )
        with session.begin_nested():
            r = execute(session, req, handler_for(proposal.decision_type))
            details: dict[str, Any] = {"version": row.version, "bulk": True, "message": r.message}
            if r.outcome in ("executed", "already_executed"):
                row.status, row.executed_at = next_status(row.status, "executed"), now
                details["result"] = r.result
                result.executed += 1
                action = "executed"
                follow = r.result.get("follow_up")
                if follow and all(f.workflow_id != follow["workflow_id"] for f in result.follow_ups):
                    result.follow_ups.append(FollowUp.model_validate(follow))
            elif r.outcome == "premise_changed":
                row.status, row.version = next_status(row.status, "premise_changed"), row.version + 1
                row.proposal = {**row.proposal, "current": r.current}
                row.approver = row.decided_at = None
                details["current"] = r.current
                result.premise_changed += 1
                action = "premise_changed"
            else:
                row.status = FAILED
                result.failed += 1
                action = "failed"
            row.updated_at = now
            details["status"] = row.status
            session.add(row)
            audit(session, decision_id=row.id, action=action, actor="system", at=now, details=details)
    session.flush()
    return result


def _fail_unreadable(session: Session, row: Decision, exc: ValidationError, now: datetime) -> None:
    reason = "; ".join(str(e.get("msg", "")) for e in exc.errors()[:3])
    row.status, row.updated_at = FAILED, now
    session.add(row)
    audit(
        session,
        decision_id=row.id,
        action="failed",
        actor="system",
        at=now,
        details={
            "status": FAILED,
            "version": row.version,
            "bulk": True,
            "error": f"the proposal is not valid: {reason}",
        },
    )


async def kick_batch_executor(client: Client, *, task_queue: str | None = None) -> None:
    """Starts the batch executor, or nudges the running one to scan again (signal-with-start)."""
    from merchflow.settings import get_settings
    from workflows.decisions.contract import TASK_QUEUE, BatchExecuteWorkflowInput, BatchKick

    queue = task_queue or get_settings().task_queue(TASK_QUEUE)
    await client.start_workflow(
        BATCH_WORKFLOW,
        BatchExecuteWorkflowInput(),
        # one executor per task queue (= per deployment sharing a namespace)
        id=f"{BATCH_EXECUTOR_ID}-{queue}",
        task_queue=queue,
        start_signal=BATCH_SIGNAL,
        start_signal_args=[BatchKick()],
    )
