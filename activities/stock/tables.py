"""Tables of cross-marketplace stock: orders, webhook dedupe, poll cursors, reconcile runs, drift reports and the
append-only ledger. Stock levels are shared (merchflow.db.models): repricing reads them too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import optional_timestamp_field, timestamp_field


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
    received_at: datetime = timestamp_field()
    processed_at: datetime | None = optional_timestamp_field()


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_event"
    __table_args__ = (sa.UniqueConstraint("account_id", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace: str = Field(max_length=32)
    event_id: str = Field(max_length=200)
    topic: str = Field(max_length=100)
    received_at: datetime = timestamp_field()


class OrderCursor(SQLModel, table=True):
    """Where the next order poll of an account starts. Advanced only after a batch is fully processed."""

    __tablename__ = "order_cursor"
    account_id: int = Field(primary_key=True, foreign_key="marketplace_account.id")
    cursor: str | None = Field(default=None, max_length=500)
    updated_at: datetime = timestamp_field()


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
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()
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


class StockLedgerEntry(SQLModel, table=True):
    """Append-only history of inventory transactions. Never updated, never deleted."""

    __tablename__ = "stock_ledger"
    __table_args__ = (sa.Index("ix_ledger_sku_id", "sku", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    kind: str = Field(max_length=20)  # receipt | sale | cancellation | return | adjustment | transfer
    quantity: int  # signed change of on_hand (or reserved, see `reserved_delta`)
    reserved_delta: int = Field(default=0)
    reason: str | None = Field(default=None, max_length=500)
    source_marketplace: str | None = Field(default=None, max_length=32)
    external_ref: str | None = Field(default=None, max_length=200)
    # business key: the same order / adjustment applied twice hits this constraint
    idempotency_key: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()
