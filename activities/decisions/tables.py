"""Tables of the decision mechanism: decisions, policies, event / action idempotency ledgers, outcome labels and
signed-link uses. The audit log and the notification outbox are shared (merchflow.db.models): other processes
notify operators too (merchflow.notify)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.models import (
    NotificationOutbox as NotificationOutbox,
)  # re-exported: the decisions' notices
from merchflow.db.types import optional_timestamp_field, timestamp_field


class DecisionPolicyRow(SQLModel, table=True):
    """Autonomy settings per decision type; a type without a row uses domain.decisions.rules.default_policy."""

    __tablename__ = "decision_policy"
    decision_type: str = Field(primary_key=True, max_length=40)
    mode: str = Field(max_length=12)  # manual | semi-auto | full-auto
    threshold: float = 0.85
    guardrails: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    timeout_hours: float = 72.0
    on_timeout: str = Field(default="expire", max_length=10)  # expire | escalate
    escalation_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_by: str | None = Field(default=None, max_length=100)
    updated_at: datetime = timestamp_field()


class DecisionEvent(SQLModel, table=True):
    """Ledger of applied state changes by event id: a retried activity applies its change once."""

    __tablename__ = "decision_event"
    event_id: str = Field(primary_key=True, max_length=80)
    decision_id: str = Field(max_length=64, index=True)
    at: datetime = timestamp_field()


class DecisionAction(SQLModel, table=True):
    """One row per executed action, keyed by its idempotency key: a duplicate approval cannot act twice."""

    __tablename__ = "decision_action"
    idempotency_key: str = Field(primary_key=True, max_length=120)
    decision_id: str = Field(max_length=64, index=True)
    decision_type: str = Field(max_length=40)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    executed_at: datetime = timestamp_field()


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
    at: datetime = timestamp_field()


class DecisionLinkUse(SQLModel, table=True):
    """Signed approval links are single-use: the first use inserts the jti, any second one collides."""

    __tablename__ = "decision_link_use"
    jti: str = Field(primary_key=True, max_length=64)
    decision_id: str = Field(max_length=64)
    used_at: datetime = timestamp_field()


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (sa.Index("ix_decision_status_type", "status", "decision_type"),)
    id: str = Field(primary_key=True, max_length=64)
    decision_type: str = Field(max_length=40)  # price_change | listing_publish | purchase | ...
    subject: str = Field(max_length=200)  # SKU or opportunity id
    marketplace: str | None = Field(default=None, max_length=32)
    proposal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    status: str = Field(default="pending", max_length=20)
    version: int = Field(default=1)
    approver: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    decided_at: datetime | None = optional_timestamp_field()
    executed_at: datetime | None = optional_timestamp_field()
    expires_at: datetime | None = optional_timestamp_field()


class DecisionBulkResult(SQLModel, table=True):
    """What one bulk approval did, kept so its result page is a GET (redirect after POST: a reload does not approve
    again) and lists the items in the order they were selected. Kept a week, readable only by whoever made it."""

    __tablename__ = "decision_bulk_result"
    id: str = Field(primary_key=True, max_length=32)  # random: result URLs are not guessable
    actor: str = Field(max_length=100)
    created_at: datetime = timestamp_field(index=True)
    # [{"decision_id", "subject", "outcome": approved | already | not_approved, "message"}], in selection order
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
