"""Writing decision state: the row, its audit line and its outcome label, applied once per event id."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from activities.decisions.repository import ENTITY
from activities.decisions.tables import Decision, DecisionEvent, DecisionOutcome
from domain.decisions.rules import confidence_bucket
from merchflow.db.models import AuditLog
from workflows.decisions.contract import TransitionInput


def audit(
    session: Session, *, decision_id: str, action: str, actor: str, at: Any, details: dict[str, Any]
) -> None:
    session.add(
        AuditLog(
            at=at, actor=actor, action=action, entity_type=ENTITY, entity_id=decision_id, details=details
        )
    )


def label_outcome(session: Session, *, row: Decision, outcome: str, actor: str, at: Any) -> None:
    """Keeps what happened to a proposal as training / calibration data (once per decision version)."""
    session.add(
        DecisionOutcome(
            decision_id=row.id,
            version=row.version,
            decision_type=row.decision_type,
            confidence=row.confidence,
            bucket=confidence_bucket(row.confidence),
            outcome=outcome,
            actor=actor,
            at=at,
        )
    )


def apply_transition(session: Session, t: TransitionInput) -> bool:
    """Creates or updates the decision row, appends the audit line; False if this event was applied before."""
    if session.get(DecisionEvent, t.event_id) is not None:
        return False
    session.add(DecisionEvent(event_id=t.event_id, decision_id=t.decision_id, at=t.at))
    p = t.proposal
    row = session.get(Decision, t.decision_id)
    if row is None:
        row = Decision(
            id=t.decision_id,
            decision_type=p.decision_type,
            subject=p.subject,
            marketplace=p.marketplace,
            confidence=p.confidence,
            created_at=t.at,
        )
    row.proposal = p.model_dump(mode="json")
    row.status, row.version = t.status, t.version
    row.workflow_id = t.workflow_id or row.workflow_id
    row.approver, row.comment = t.approver, t.comment
    row.decided_at, row.executed_at = t.decided_at, t.executed_at
    row.expires_at = t.expires_at
    row.updated_at = t.at
    session.add(row)
    details = {"status": t.status, "version": t.version, **t.details}
    if t.comment and t.action in ("approved", "edited", "rejected"):
        details["comment"] = t.comment
    audit(session, decision_id=t.decision_id, action=t.action, actor=t.actor, at=t.at, details=details)
    if t.outcome:
        session.flush()
        label_outcome(session, row=row, outcome=t.outcome, actor=t.actor, at=t.at)
    session.flush()
    return True
