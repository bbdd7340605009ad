"""Reading decisions and policies (keyword-only functions, session first). Used by the API, the web pages
and the activities; writes of decision state happen in activities.decisions.store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, func, select

from activities.decisions.tables import Decision, DecisionOutcome, DecisionPolicyRow
from domain.decisions.rules import GuardRails, Policy, default_policy
from merchflow.db.models import AuditLog
from merchflow.db.types import utcnow

ENTITY = "decision"


class DecisionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    decision_type: str
    subject: str
    marketplace: str | None
    proposal: dict[str, Any]
    confidence: float
    status: str
    version: int
    approver: str | None
    comment: str | None
    workflow_id: str | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    executed_at: datetime | None
    expires_at: datetime | None
    # unpacked from the proposal for templates and API clients
    currency: str | None = None
    expected_effect: dict[str, Any] | None = None
    current: dict[str, Any] = {}
    proposed: dict[str, Any] = {}
    reasoning: str = ""
    factors: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []

    @classmethod
    def of(cls, row: Decision) -> DecisionView:
        p = row.proposal or {}
        return cls.model_validate(
            {
                **row.model_dump(),
                "currency": p.get("currency"),
                "expected_effect": p.get("expected_effect"),
                "current": p.get("current") or {},
                "proposed": p.get("proposed") or {},
                "reasoning": p.get("reasoning") or "",
                "factors": p.get("factors") or [],
                "evidence": p.get("evidence") or [],
            }
        )


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


class PolicyView(BaseModel):
    decision_type: str
    mode: str
    threshold: float
    guardrails: dict[str, Any]
    timeout_hours: float
    on_timeout: str
    escalation_groups: list[str]
    updated_by: str | None = None
    updated_at: datetime | None = None
    stored: bool = False  # False: the built-in default, never changed by an admin

    def to_policy(self) -> Policy:
        return Policy(
            decision_type=self.decision_type,
            mode=self.mode,  # type: ignore[arg-type]
            threshold=self.threshold,
            guardrails=GuardRails.model_validate(self.guardrails),
            timeout_hours=self.timeout_hours,
            on_timeout=self.on_timeout,  # type: ignore[arg-type]
            escalation_groups=self.escalation_groups,
        )


def _filtered(
    query: Any,
    *,
    status: str | None,
    decision_type: str | None,
    marketplace: str | None,
    min_confidence: float | None,
    max_confidence: float | None,
    older_than_hours: float | None,
) -> Any:
    if status:
        query = query.where(Decision.status == status)
    if decision_type:
        query = query.where(Decision.decision_type == decision_type)
    if marketplace:
        query = query.where(Decision.marketplace == marketplace)
    if min_confidence is not None:
        query = query.where(Decision.confidence >= min_confidence)
    if max_confidence is not None:
        query = query.where(Decision.confidence <= max_confidence)
    if older_than_hours is not None:
        query = query.where(col(Decision.created_at) <= utcnow() - timedelta(hours=older_than_hours))
    return query


def list_decisions(
    session: Session,
    *,
    status: str | None = "pending",
    decision_type: str | None = None,
    marketplace: str | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    older_than_hours: float | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DecisionView], int]:
    """One page (oldest first: the longest waiting are the most urgent) and the total matching."""
    filters = dict(
        status=status,
        decision_type=decision_type,
        marketplace=marketplace,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        older_than_hours=older_than_hours,
    )
    total = session.exec(_filtered(select(func.count()).select_from(Decision), **filters)).one()
    rows = session.exec(
        _filtered(select(Decision), **filters)
        .order_by(col(Decision.created_at), col(Decision.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return [DecisionView.of(r) for r in rows], int(total)


def decision_counts(session: Session) -> dict[str, dict[str, int]]:
    rows = session.exec(
        select(Decision.status, Decision.decision_type, func.count()).group_by(
            Decision.status, Decision.decision_type
        )
    ).all()
    out: dict[str, dict[str, int]] = {}
    for status, dtype, n in rows:
        out.setdefault(status, {})[dtype] = int(n)
    return out


def get_decision(session: Session, decision_id: str) -> DecisionView | None:
    row = session.get(Decision, decision_id)
    return DecisionView.of(row) if row is not None else None


def decision_history(session: Session, decision_id: str) -> list[HistoryEntry]:
    rows = session.exec(
        select(AuditLog)
        .where(AuditLog.entity_type == ENTITY, AuditLog.entity_id == decision_id)
        .order_by(col(AuditLog.at), col(AuditLog.id))
    ).all()
    return [HistoryEntry(at=r.at, actor=r.actor, action=r.action, details=r.details or {}) for r in rows]


def _view(row: DecisionPolicyRow) -> PolicyView:
    return PolicyView(
        decision_type=row.decision_type,
        mode=row.mode,
        threshold=row.threshold,
        guardrails=row.guardrails or {},
        timeout_hours=row.timeout_hours,
        on_timeout=row.on_timeout,
        escalation_groups=row.escalation_groups or [],
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        stored=True,
    )


def _default_view(decision_type: str) -> PolicyView:
    p = default_policy(decision_type)
    return PolicyView(
        decision_type=decision_type,
        mode=p.mode,
        threshold=p.threshold,
        guardrails=p.guardrails.model_dump(mode="json", exclude_none=True),
        timeout_hours=p.timeout_hours,
        on_timeout=p.on_timeout,
        escalation_groups=p.escalation_groups,
    )


def get_policy(session: Session, decision_type: str) -> PolicyView:
    row = session.get(DecisionPolicyRow, decision_type)
    return _view(row) if row is not None else _default_view(decision_type)


def get_policies(session: Session, *, types: Sequence[str]) -> list[PolicyView]:
    """The policy of each of these types (the ones that can be proposed), stored settings winning over defaults.
    Rows of other types (a feature removed, junk written before types were checked) are not listed."""
    stored = {r.decision_type: _view(r) for r in session.exec(select(DecisionPolicyRow)).all()}
    return [stored.get(t) or _default_view(t) for t in sorted(types)]


def set_policy(
    session: Session,
    *,
    decision_type: str,
    mode: str,
    threshold: float,
    guardrails: dict[str, Any],
    actor: str,
    timeout_hours: float | None = None,
    on_timeout: str | None = None,
    escalation_groups: list[str] | None = None,
) -> PolicyView:
    """Validates through the domain model (ValueError on nonsense) and upserts; audited."""
    before = get_policy(session, decision_type)
    policy = Policy(
        decision_type=decision_type,
        mode=mode,  # type: ignore[arg-type]
        threshold=threshold,
        guardrails=GuardRails.model_validate(guardrails),
        timeout_hours=timeout_hours if timeout_hours is not None else before.timeout_hours,
        on_timeout=on_timeout or before.on_timeout,  # type: ignore[arg-type]
        escalation_groups=escalation_groups if escalation_groups is not None else before.escalation_groups,
    )
    row = session.get(DecisionPolicyRow, decision_type) or DecisionPolicyRow(
        decision_type=decision_type, mode=mode
    )
    row.mode, row.threshold = policy.mode, policy.threshold
    row.guardrails = policy.guardrails.model_dump(mode="json", exclude_none=True)
    row.timeout_hours, row.on_timeout = policy.timeout_hours, policy.on_timeout
    row.escalation_groups = list(policy.escalation_groups)
    row.updated_by, row.updated_at = actor, utcnow()
    session.add(row)
    session.add(
        AuditLog(
            actor=actor,
            action="policy_changed",
            entity_type="decision_policy",
            entity_id=decision_type,
            details={"before": before.model_dump(mode="json"), "after": _view(row).model_dump(mode="json")},
        )
    )
    session.flush()
    return _view(row)


class CalibrationBucket(BaseModel):
    decision_type: str
    bucket: float  # lower edge, e.g. 0.8 means [0.8, 0.9)
    decided: int  # human decisions (approved + edited + rejected)
    approved: int
    edited: int
    rejected: int
    expired: int
    approval_rate: float | None  # (approved + edited) / decided


def calibration(session: Session, *, decision_type: str | None = None) -> list[CalibrationBucket]:
    query = select(
        DecisionOutcome.decision_type, DecisionOutcome.bucket, DecisionOutcome.outcome, func.count()
    ).group_by(DecisionOutcome.decision_type, DecisionOutcome.bucket, DecisionOutcome.outcome)
    if decision_type:
        query = query.where(DecisionOutcome.decision_type == decision_type)
    cells: dict[tuple[str, float], dict[str, int]] = {}
    for dtype, bucket, outcome, n in session.exec(query).all():
        cells.setdefault((dtype, round(float(bucket), 1)), {})[outcome] = int(n)
    out = []
    for (dtype, bucket), c in sorted(cells.items()):
        approved, edited, rejected = c.get("approved", 0), c.get("edited", 0), c.get("rejected", 0)
        decided = approved + edited + rejected
        out.append(
            CalibrationBucket(
                decision_type=dtype,
                bucket=bucket,
                decided=decided,
                approved=approved,
                edited=edited,
                rejected=rejected,
                expired=c.get("expired", 0),
                approval_rate=round((approved + edited) / decided, 4) if decided else None,
            )
        )
    return out


def decision_rows(session: Session, ids: list[str]) -> dict[str, Decision]:
    if not ids:
        return {}
    rows = session.exec(select(Decision).where(col(Decision.id).in_(ids))).all()
    return {r.id: r for r in rows}


__all__ = [
    "CalibrationBucket",
    "DecisionView",
    "HistoryEntry",
    "PolicyView",
    "calibration",
    "decision_counts",
    "decision_history",
    "decision_rows",
    "get_decision",
    "get_policies",
    "get_policy",
    "list_decisions",
    "set_policy",
    "statuses_of",
]


def statuses_of(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """Decision id -> status, for other features showing their proposals' decisions."""
    if not ids:
        return {}
    return dict(
        session.exec(select(Decision.id, Decision.status).where(col(Decision.id).in_(list(ids)))).all()
    )
