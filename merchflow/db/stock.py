"""Tables of the cross-marketplace stock feature (issue 4). Migration 0004."""

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


class MarketplaceOrder(SQLModel, table=True):
    """One order seen on a marketplace, whichever way it arrived (webhook or poll): the dedupe point."""

    __tablename__ = "marketplace_order"
    __table_args__ = (sa.UniqueConstraint("account_id", "order_id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace: str = Field(max_length=32)
    order_id: str = Field(max_length=100)
    status: str = Field(
        default="received", max_length=20
    )  # received | allocated | backordered | cancelled | unmanaged
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="webhook", max_length=10)  # webhook | poll | api
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    workflow_id: str | None = Field(default=None, max_length=200)
    received_at: datetime = _ts()
    processed_at: datetime | None = _ts_opt()


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_event"
    __table_args__ = (sa.UniqueConstraint("account_id", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace: str = Field(max_length=32)
    event_id: str = Field(max_length=200)
    topic: str = Field(max_length=100)
    received_at: datetime = _ts()


class OrderCursor(SQLModel, table=True):
    """Where the next order poll of an account starts. Advanced only after a batch is fully processed."""

    __tablename__ = "order_cursor"
    account_id: int = Field(primary_key=True, foreign_key="marketplace_account.id")
    cursor: str | None = Field(default=None, max_length=500)
    updated_at: datetime = _ts()


class ReconcileRun(SQLModel, table=True):
    __tablename__ = "reconcile_run"
    id: str = Field(primary_key=True, max_length=200)  # the account's reconcile workflow id + run
    parent_id: str | None = Field(default=None, max_length=200)
    account_id: int = Field(foreign_key="marketplace_account.id")
    status: str = Field(default="running", max_length=20)  # running | completed | failed
    checked: int = 0
    drifted: int = 0
    corrected: int = 0
    failed: int = 0
    unknown: int = 0
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts_opt()
    error: str | None = Field(default=None, max_length=2000)


class DriftReportRow(SQLModel, table=True):
    __tablename__ = "drift_report"
    __table_args__ = (sa.UniqueConstraint("run_id", "sku"), sa.Index("ix_drift_run", "run_id", "id"))
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=200, foreign_key="reconcile_run.id")
    sku: str = Field(max_length=64)
    expected: int | None = None
    found: int | None = None
    action: str = Field(max_length=30)  # set | missing_on_marketplace | unknown_sku
    outcome: str = Field(max_length=20)  # applied | conflict | rejected | failed | skipped
    message: str | None = Field(default=None, max_length=500)
