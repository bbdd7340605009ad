"""Tables of repricing: runs, proposals, trained demand models, the pricing history and competitor prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class RepriceRun(SQLModel, table=True):
    __tablename__ = "reprice_run"
    id: str = Field(primary_key=True, max_length=200)  # workflow id
    dry_run: bool = False
    status: str = Field(default="running", max_length=20)  # running | completed | failed
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evaluated: int = 0
    proposed: int = 0
    auto_approved: int = 0
    pending: int = 0
    pushed: int = 0
    failed: int = 0
    # expected effect per day at today's run-rate, summed over changed SKUs (model-based where available)
    expected_margin_delta: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    expected_revenue_delta: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()
    error: str | None = Field(default=None, max_length=2000)


class RepriceProposal(SQLModel, table=True):
    __tablename__ = "reprice_proposal"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "account_id", "sku"),
        sa.Index("ix_reprice_prop_run", "run_id", "id"),
        # pushes and approvals find a listing's proposals without knowing the run
        sa.Index("ix_reprice_prop_listing", "account_id", "sku", "status"),
        sa.Index("ix_reprice_prop_decision", "decision_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=200, foreign_key="reprice_run.id")
    account_id: int = Field(foreign_key="marketplace_account.id")
    sku: str = Field(max_length=64)
    current_price: Decimal = Field(sa_column=Money(nullable=False))
    suggested_price: Decimal = Field(sa_column=Money(nullable=False))
    floor_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    ceiling_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    change_pct: float = 0.0
    confidence: float = 0.0
    unit_margin_now: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    unit_margin_new: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    expected_units_factor: float = 1.0
    expected_revenue_factor: float = 1.0
    reasoning: str = Field(default="", sa_column=Column(sa.Text, nullable=False))
    decision_id: str | None = Field(default=None, max_length=64)
    status: str = Field(
        default="proposed", max_length=20
    )  # proposed | auto_approved | pending | pushed | failed | rejected


class DemandModelRow(SQLModel, table=True):
    __tablename__ = "demand_model"
    id: int | None = Field(default=None, primary_key=True)
    trained_at: datetime = timestamp_field()
    rows: int = 0
    validation_mae_log: float | None = None
    validation_mape: float | None = None
    elasticity: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True


class PricingHistory(SQLModel, table=True):
    __tablename__ = "pricing_history"
    __table_args__ = (sa.Index("ix_pricing_sku_at", "sku", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    account_id: int | None = Field(default=None, foreign_key="marketplace_account.id")
    old_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    new_price: Decimal = Field(sa_column=Money(nullable=False))
    reason: str | None = Field(default=None, max_length=2000)
    confidence: float | None = None
    approved_by: str | None = Field(default=None, max_length=100)
    decision_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = timestamp_field()


class CompetitorPrice(SQLModel, table=True):
    __tablename__ = "competitor_price"
    __table_args__ = (sa.Index("ix_competitor_sku_fetched", "sku", "fetched_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    source: str = Field(max_length=64)  # marketplace api name or scraped domain
    url: str | None = Field(default=None, max_length=2000)
    competitor: str | None = Field(default=None, max_length=200)
    price: Decimal = Field(sa_column=Money(nullable=False))
    shipping: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    currency: str = Field(default="USD", max_length=3)
    matched_by: str | None = Field(default=None, max_length=20)  # upc | ean | isbn | asin | mpn | title
    fetched_at: datetime = timestamp_field()
