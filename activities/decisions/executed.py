"""Recording, set-based, that actions a feature ran for many workflow-less decisions at once were executed, or that
their premise moved: the same rows, keys and audit lines as the batch executor writes one decision at a time.

For features that act on thousands of auto-approved decisions in one transaction (repricing's batches): they run
the action themselves, then report here, so the decisions' state is only ever written by this feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from activities.decisions.repository import ENTITY
from activities.decisions.tables import Decision, DecisionAction
from domain.decisions.rules import APPROVED, AUTO_APPROVED, PENDING
from merchflow.db.bulk import execute_many
from merchflow.db.models import AuditLog
from workflows.decisions.contract import action_key

_D = Decision.__table__  # type: ignore[attr-defined]
_X = DecisionAction.__table__  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]
_CHUNK = 5000  # keys per IN (...): under SQLite's bound-parameter cap


@dataclass(frozen=True)
class Executed:
    decision_id: str
    version: int
    decision_type: str
    result: dict[str, Any]


def executed_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these action keys have run already (a retried batch must not act twice)."""
    done: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        part = list(keys[i : i + _CHUNK])
        done |= {
            r[0]
            for r in session.execute(sa.select(_X.c.idempotency_key).where(_X.c.idempotency_key.in_(part)))
        }
    return done


def record_executed(session: Session, items: Sequence[Executed], *, now: datetime) -> None:
    """The actions ran in the caller's transaction: keep their keys and results, mark the approved decisions
    executed, one audit line each."""
    if not items:
        return
    execute_many(
        session,
        sa.insert(_X),
        [
            {"idempotency_key": action_key(i.decision_id, i.version), "decision_id": i.decision_id,
             "decision_type": i.decision_type, "result": i.result, "executed_at": now}
            for i in items
        ],
    )  # fmt: skip
    ids = [i.decision_id for i in items]
    for start in range(0, len(ids), _CHUNK):  # one statement per chunk, not one parameter set per decision
        session.execute(
            sa.update(_D)
            .where(_D.c.id.in_(ids[start : start + _CHUNK]), _D.c.status.in_((AUTO_APPROVED, APPROVED)))
            .values(status="executed", executed_at=now, updated_at=now)
        )
    execute_many(
        session,
        sa.insert(_A),
        [
            {"at": now, "actor": "system", "action": "executed", "entity_type": ENTITY, "entity_id": i.decision_id,
             "details": {"version": i.version, "bulk": True, "status": "executed", "result": i.result}}
            for i in items
        ],
    )  # fmt: skip


def send_back(session: Session, changes: Sequence[tuple[str, dict[str, Any]]], *, now: datetime) -> list[str]:
    """The facts moved since these approved decisions were proposed: each goes back to a person as a new version
    with the facts as they are now. Returns the ids actually sent back (still approved when looked at)."""
    sent = []
    for decision_id, current_changes in changes:
        row = session.get(Decision, decision_id)
        if row is None or row.status not in (AUTO_APPROVED, APPROVED):
            continue
        current = {**row.proposal.get("current", {}), **current_changes}
        row.proposal = {**row.proposal, "current": current}
        row.status, row.version, row.approver, row.decided_at, row.updated_at = (
            PENDING,
            row.version + 1,
            None,
            None,
            now,
        )
        session.add(row)
        session.add(
            AuditLog(at=now, actor="system", action="premise_changed", entity_type=ENTITY, entity_id=decision_id,
                     details={"version": row.version, "bulk": True, "current": current, "status": PENDING})
        )  # fmt: skip
        sent.append(decision_id)
    return sent
