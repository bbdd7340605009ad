"""Tables of analytics: the figures the nightly run precomputes (so the endpoints and the dashboard answer
in milliseconds on 100,000 SKUs), as named snapshots and as one row of per-SKU figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import timestamp_field


class AnalyticsSnapshot(SQLModel, table=True):
    """One precomputed report (aging, top_worst, projection, channels, customers, ...) and its charts (SVG)."""

    __tablename__ = "analytics_snapshot"
    name: str = Field(primary_key=True, max_length=40)
    run_id: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    svg: str | None = Field(default=None, sa_column=Column(sa.Text(), nullable=True))
    computed_at: datetime = timestamp_field()


class SkuAnalytics(SQLModel, table=True):
    """Per SKU over the analytics window: units, revenue, margin, velocity, sell-through, stock-out days."""

    __tablename__ = "sku_analytics"
    __table_args__ = (sa.Index("ix_sku_analytics_revenue", "revenue"),)
    sku: str = Field(primary_key=True, max_length=64)
    units: float = 0
    revenue: float = 0
    margin: float | None = None
    velocity: float = 0
    sell_through: float | None = None
    stockout_days: int = 0
    days: int = 0
    on_hand: int = 0
    run_id: str = Field(max_length=200)
    computed_at: datetime = timestamp_field()
