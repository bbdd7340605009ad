"""Deciding workflow-less (bulk) decisions: a guarded row update — still pending, same version as seen.

Approve / reject of many rows is set-based (one UPDATE ... RETURNING per chunk and version, audit and outcome
rows inserted in bulk) so 100,000 approvals fit in one request; edit-and-approve goes row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from activities.decisions.repository import ENTITY
from activities.decisions.store import audit, label_outcome
from activities.decisions.tables import Decision, DecisionOutcome
from domain.decisions.rules import PENDING, Proposal, apply_edit, check_decide, confidence_bucket, next_status
from merchflow.db.engine import session_scope
from merchflow.db.models import AuditLog
from merchflow.db.types import utcnow
from workflows.decisions.contract import BulkDecideItem, BulkDecideOutcome

_CHUNK = 2000  # ids per statement: below SQLite's bound-parameter cap
_VERBS = {"approve": "approved", "edit_approve": "edited", "reject": "rejected"}


def decide_rows(
    engine: sa.Engine,
    items: Sequence[BulkDecideItem],
    *,
    action: str,
    actor: str,
    role: str,
    comment: str | None = None,
    edited_value: dict[str, Any] | None = None,
) -> list[BulkDecideOutcome]:
    """One outcome per item, in order. Each row changes only if still pending at the version the person saw."""
    if action == "edit_approve":
        return _decide_one_by_one(
            engine, items, action=action, actor=actor, role=role, comment=comment, edited_value=edited_value
        )
    return _decide_set(engine, items, action=action, actor=actor, role=role, comment=comment)


def _decide_set(
    engine: sa.Engine,
    items: Sequence[BulkDecideItem],
    *,
    action: str,
    actor: str,
    role: str,
    comment: str | None,
) -> list[BulkDecideOutcome]:
    now = utcnow()
    out: list[BulkDecideOutcome | None] = [None] * len(items)
    with session_scope(engine) as session:
        for start in range(0, len(items), _CHUNK):
            _decide_chunk(
                session, items, start, out, action=action, actor=actor, role=role, comment=comment, now=now
            )
    return [o for o in out if o is not None]


def _decide_chunk(
    session: Session,
    items: Sequence[BulkDecideItem],
    start: int,
    out: list[BulkDecideOutcome | None],
    *,
    action: str,
    actor: str,
    role: str,
    comment: str | None,
    now: datetime,
) -> None:
    part = range(start, min(start + _CHUNK, len(items)))
    found = {
        r.id: r
        for r in session.execute(
            sa.select(
                Decision.id,
                Decision.status,
                Decision.version,
                Decision.approver,
                Decision.decided_at,
                Decision.expires_at,
                Decision.decision_type,
                Decision.confidence,
            ).where(col(Decision.id).in_([items[i].decision_id for i in part]))
        ).all()
    }
    overdue = [r.id for r in found.values() if r.status == PENDING and r.expires_at and r.expires_at <= now]
    for did in overdue:
        row = session.get(Decision, did)
        if row is not None:
            expire_row(session, row, now)
    expired = set(overdue)
    by_version: dict[int, list[str]] = {}
    candidates: dict[str, int] = {}
    for i in part:
        item = items[i]
        r = found.get(item.decision_id)
        if r is None:
            out[i] = BulkDecideOutcome(
                decision_id=item.decision_id, ok=False, code="not_found", message="decision does not exist"
            )
            continue
        if item.decision_id in candidates:
            out[i] = BulkDecideOutcome(decision_id=r.id, ok=False, code="conflict", message="listed twice")
            continue
        refusal = check_decide(
            status="expired" if r.id in expired else r.status,
            version=r.version,
            role=role,
            action=action,
            expected_version=item.expected_version,
            decided_by=r.approver,
            decided_at=r.decided_at,
        )
        if refusal is not None:
            out[i] = BulkDecideOutcome(decision_id=r.id, ok=False, code=refusal.code, message=refusal.message)
            continue
        candidates[r.id] = i
        by_version.setdefault(r.version, []).append(r.id)
    status = next_status(PENDING, action)
    won: set[str] = set()
    for version, ids in by_version.items():
        # the guard: a concurrent decider who got there first makes these rows fall out of the WHERE
        stmt = (
            sa.update(Decision)
            .where(
                col(Decision.id).in_(ids), col(Decision.status) == PENDING, col(Decision.version) == version
            )
            .values(status=status, approver=actor, comment=comment, decided_at=now, updated_at=now)
            .returning(col(Decision.id))
            .execution_options(synchronize_session=False)
        )
        won.update(session.execute(stmt).scalars())
    verb = _VERBS[action]
    audits, labels = [], []
    for did, i in candidates.items():
        r = found[did]
        if did not in won:
            out[i] = BulkDecideOutcome(
                decision_id=did, ok=False, code="conflict", message="already decided by someone else"
            )
            continue
        details: dict[str, Any] = {"status": status, "version": r.version, "bulk": True}
        if comment:
            details["comment"] = comment
        audits.append(
            {
                "at": now,
                "actor": actor,
                "action": verb,
                "entity_type": ENTITY,
                "entity_id": did,
                "details": details,
            }
        )
        labels.append(
            {
                "decision_id": did,
                "version": r.version,
                "decision_type": r.decision_type,
                "confidence": r.confidence,
                "bucket": confidence_bucket(r.confidence),
                "outcome": verb,
                "actor": actor,
                "at": now,
            }
        )
        out[i] = BulkDecideOutcome(decision_id=did, ok=True, status=status, version=r.version, message=verb)
    if audits:
        session.execute(sa.insert(AuditLog), audits)
        session.execute(sa.insert(DecisionOutcome), labels)


def _decide_one_by_one(
    engine: sa.Engine,
    items: Sequence[BulkDecideItem],
    *,
    action: str,
    actor: str,
    role: str,
    comment: str | None = None,
    edited_value: dict[str, Any] | None = None,
) -> list[BulkDecideOutcome]:
    """Row by row (edit-and-approve carries a value per decision)."""
    now = utcnow()
    out = []
    with session_scope(engine) as session:
        ids = [i.decision_id for i in items]
        rows: dict[str, Decision] = {}
        for start in range(0, len(ids), 5000):  # SQLite caps bound parameters per statement
            part = ids[start : start + 5000]
            rows.update(
                (r.id, r) for r in session.exec(select(Decision).where(col(Decision.id).in_(part))).all()
            )
        for item in items:
            row = rows.get(item.decision_id)
            if row is None:
                out.append(
                    BulkDecideOutcome(
                        decision_id=item.decision_id,
                        ok=False,
                        code="not_found",
                        message="decision does not exist",
                    )
                )
                continue
            if row.status == PENDING and row.expires_at is not None and row.expires_at <= now:
                expire_row(session, row, now)
            refusal = check_decide(
                status=row.status,
                version=row.version,
                role=role,
                action=action,
                expected_version=item.expected_version,
                decided_by=row.approver,
                decided_at=row.decided_at,
            )
            if refusal is not None:
                out.append(
                    BulkDecideOutcome(
                        decision_id=row.id, ok=False, code=refusal.code, message=refusal.message
                    )
                )
                continue
            proposal = dict(row.proposal)
            if action == "edit_approve":
                try:
                    proposal["proposed"] = apply_edit(
                        Proposal.model_validate(row.proposal), edited_value or {}
                    )
                except ValueError as exc:
                    out.append(
                        BulkDecideOutcome(decision_id=row.id, ok=False, code="invalid", message=str(exc))
                    )
                    continue
            status = next_status(row.status, action)
            # the guard: a concurrent decider who got here first makes this update match no row
            won = session.execute(
                sa.update(Decision)
                .where(
                    col(Decision.id) == row.id,
                    col(Decision.status) == PENDING,
                    col(Decision.version) == row.version,
                )
                .values(
                    status=status,
                    approver=actor,
                    comment=comment,
                    decided_at=now,
                    updated_at=now,
                    proposal=proposal,
                )
                # plain UPDATE: syncing every loaded row per statement made 10k approvals quadratic
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won:
                out.append(
                    BulkDecideOutcome(
                        decision_id=row.id,
                        ok=False,
                        code="conflict",
                        message="already decided by someone else",
                    )
                )
                continue
            verb = {"approve": "approved", "edit_approve": "edited", "reject": "rejected"}[action]
            details: dict[str, Any] = {"status": status, "version": row.version, "bulk": True}
            if comment:
                details["comment"] = comment
            if action == "edit_approve":
                details["edited_value"] = edited_value
            audit(session, decision_id=row.id, action=verb, actor=actor, at=now, details=details)
            label_outcome(session, row=row, outcome=verb, actor=actor, at=now)
            out.append(
                BulkDecideOutcome(
                    decision_id=row.id, ok=True, status=status, version=row.version, message=verb
                )
            )
    return out


def expire_row(session: Session, row: Decision, now: datetime) -> None:
    row.status, row.updated_at = next_status(row.status, "expire"), now
    session.add(row)
    audit(
        session,
        decision_id=row.id,
        action="expired",
        actor="system",
        at=now,
        details={"status": row.status, "version": row.version, "bulk": True},
    )
    label_outcome(session, row=row, outcome="expired", actor="system", at=now)
