"""Tables of replenishment: suppliers and their SKUs, alert thresholds and alert states, the per-SKU plan of the
last run, purchase orders with their lines and receipts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class Supplier(SQLModel, table=True):
    __tablename__ = "supplier"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    email: str | None = Field(default=None, max_length=254)  # where purchase orders are sent
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    lead_time_days: float = 14.0
    lead_time_std_days: float = 0.0
    moq: int = 1
    pack_size: int = 1
    currency: str = Field(default="USD", max_length=3)
    order_cost: Decimal | None = Field(default=None, sa_column=Money(nullable=True))  # None: the setting
    active: bool = True
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class SupplierItem(SQLModel, table=True):
    """A SKU a supplier sells us, at its unit cost. The preferred link is the one replenishment orders from."""

    __tablename__ = "supplier_item"
    sku: str = Field(primary_key=True, max_length=64)
    supplier_id: int = Field(primary_key=True, foreign_key="supplier.id")
    unit_cost: Decimal = Field(sa_column=Money(nullable=False))
    supplier_sku: str | None = Field(default=None, max_length=100)
    preferred: bool = True
    updated_at: datetime = timestamp_field()


class AlertThreshold(SQLModel, table=True):
    """Per SKU or per category: low stock at or below `low_stock` units; stock-out risk when the days of cover
    fall below `risk_days`. A SKU's own row wins over its category's; neither: the defaults (see settings)."""

    __tablename__ = "stock_alert_threshold"
    scope: str = Field(primary_key=True, max_length=10)  # sku | category
    key: str = Field(primary_key=True, max_length=200)
    low_stock: int | None = None
    risk_days: float | None = None
    updated_at: datetime = timestamp_field()


class StockAlert(SQLModel, table=True):
    """Alert state per SKU and kind: a digest mentions an alert when it starts firing and when it resolves, never
    again in between (dedupe across runs)."""

    __tablename__ = "stock_alert"
    sku: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=20)  # low_stock | stockout_risk
    status: str = Field(max_length=10)  # firing | resolved
    since: datetime = timestamp_field()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    run_id: str = Field(max_length=200)
    updated_at: datetime = timestamp_field()


class ReplenishmentPlanRow(SQLModel, table=True):
    __tablename__ = "replenishment_plan"
    sku: str = Field(primary_key=True, max_length=64)
    supplier_id: int | None = None
    on_hand: float = 0
    on_order: float = 0
    demand_per_day: float = 0
    sigma_per_day: float = 0
    lead_time_days: float = 0
    safety_stock: float = 0
    reorder_point: float = 0
    eoq: float = 0
    order_qty: float = 0
    days_of_cover: float | None = None
    abc: str = Field(default="C", max_length=1)
    xyz: str = Field(default="Z", max_length=1)
    basis: str = Field(default="", max_length=40)
    run_id: str = Field(max_length=200)
    computed_at: datetime = timestamp_field()


class ReplenishmentRun(SQLModel, table=True):
    __tablename__ = "replenishment_run"
    id: str = Field(primary_key=True, max_length=200)
    status: str = Field(default="running", max_length=20)
    skus: int = 0
    alerts_new: int = 0
    alerts_resolved: int = 0
    orders: int = 0
    outbox_id: int | None = None
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_order"
    __table_args__ = (sa.Index("ix_po_status", "status"),)
    id: str = Field(primary_key=True, max_length=64)
    supplier_id: int = Field(foreign_key="supplier.id")
    # proposed -> approved -> sent -> confirmed -> partially_received -> received; or rejected / expired /
    # cancelled
    status: str = Field(default="proposed", max_length=20)
    currency: str = Field(default="USD", max_length=3)
    total: Decimal = Field(default=Decimal(0), sa_column=Money(nullable=False))
    run_id: str | None = Field(default=None, max_length=200)
    decision_id: str | None = Field(default=None, max_length=64)
    approved_by: str | None = Field(default=None, max_length=100)
    sent_to: str | None = Field(default=None, max_length=254)
    message_id: str | None = Field(default=None, max_length=200)
    send_error: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = timestamp_field()
    approved_at: datetime | None = optional_timestamp_field()
    sent_at: datetime | None = optional_timestamp_field()
    confirmed_at: datetime | None = optional_timestamp_field()
    received_at: datetime | None = optional_timestamp_field()
    closed_at: datetime | None = optional_timestamp_field()


class PurchaseOrderLine(SQLModel, table=True):
    __tablename__ = "purchase_order_line"
    po_id: str = Field(primary_key=True, foreign_key="purchase_order.id", max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int
    unit_cost: Decimal = Field(sa_column=Money(nullable=False))
    received: int = 0


class PurchaseOrderReceipt(SQLModel, table=True):
    """One delivery against a PO (partial allowed); its id makes a repeated request a no-op."""

    __tablename__ = "purchase_order_receipt"
    po_id: str = Field(primary_key=True, foreign_key="purchase_order.id", max_length=64)
    receipt_id: str = Field(primary_key=True, max_length=100)
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()
