"""Tables of the decision mechanism (issue 5). The `decision` and `audit_log` tables are core (models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import UTCDateTime, utcnow


def _ts() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _ts_opt() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DecisionPolicyRow(SQLModel, table=True):
    """Autonomy settings per decision type; a type without a row uses domain.decisions.default_policy."""

    __tablename__ = "decision_policy"
    decision_type: str = Field(primary_key=True, max_length=40)
    mode: str = Field(max_length=12)  # manual | semi-auto | full-auto
    threshold: float = 0.85
    guardrails: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    timeout_hours: float = 72.0
    on_timeout: str = Field(default="expire", max_length=10)  # expire | escalate
    escalation_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_by: str | None = Field(default=None, max_length=100)
    updated_at: datetime = _ts()


class DecisionEvent(SQLModel, table=True):
    """Ledger of applied state changes by event id: a retried activity applies its change once."""

    __tablename__ = "decision_event"
    event_id: str = Field(primary_key=True, max_length=80)
    decision_id: str = Field(max_length=64, index=True)
    at: datetime = _ts()


class DecisionAction(SQLModel, table=True):
    """One row per executed action, keyed by its idempotency key: a duplicate approval cannot act twice."""

    __tablename__ = "decision_action"
    idempotency_key: str = Field(primary_key=True, max_length=120)
    decision_id: str = Field(max_length=64, index=True)
    decision_type: str = Field(max_length=40)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    executed_at: datetime = _ts()


class DecisionOutcome(SQLModel, table=True):
    """Labelled data: what a human (or the clock) did with a proposal of a given confidence."""

    __tablename__ = "decision_outcome"
    __table_args__ = (
        sa.UniqueConstraint("decision_id", "version"),
        sa.Index("ix_outcome_type_bucket", "decision_type", "bucket"),
    )
    id: int | None = Field(default=None, primary_key=True)
    decision_id: str = Field(max_length=64)
    version: int
    decision_type: str = Field(max_length=40)
    confidence: float
    bucket: float  # lower edge of the 0.1-wide confidence bucket
    outcome: str = Field(max_length=20)  # approved | edited | rejected | expired
    actor: str = Field(max_length=100)
    at: datetime = _ts()


class NotificationOutbox(SQLModel, table=True):
    __tablename__ = "notification_outbox"
    __table_args__ = (sa.Index("ix_outbox_status", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    # decision id + event + version (+ level): the same notice is queued once however often it is asked for
    dedupe_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    decision_id: str | None = Field(default=None, max_length=64)
    event: str = Field(max_length=40)  # needs_approval | escalated | premise_changed | batch_pending
    audience: str = Field(default="approver", max_length=40)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(sa.Text(), nullable=False))
    link: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="pending", max_length=12)  # pending | sent | logged | failed
    # channels already delivered to, so a retry after a partial failure does not mail twice
    delivered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts_opt()


class DecisionLinkUse(SQLModel, table=True):
    """Signed approval links are single-use: the first use inserts the jti, any second one collides."""

    __tablename__ = "decision_link_use"
    jti: str = Field(primary_key=True, max_length=64)
    decision_id: str = Field(max_length=64)
    used_at: datetime = _ts()
