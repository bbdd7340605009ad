"""Tables of sales history and forecasting: sales lines (imported files and the engine's own orders), sales
imports with their per-row report and committed batches, forecast runs, each SKU's chosen model with its backtest
errors, and its latest forecast."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class SalesLine(SQLModel, table=True):
    """One sale (or return: negative quantity). `line_key` is the business key: a re-imported file, a retried
    batch or an order synced twice hits it and adds nothing."""

    __tablename__ = "sales_line"
    __table_args__ = (sa.Index("ix_sales_sku_day", "sku", "sold_on"), sa.Index("ix_sales_day", "sold_on"))
    id: int | None = Field(default=None, primary_key=True)
    line_key: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    source: str = Field(max_length=10)  # import | order
    import_id: str | None = Field(default=None, max_length=64)
    sold_on: date
    sku: str = Field(max_length=64)
    quantity: int
    unit_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    channel: str | None = Field(default=None, max_length=64)
    store: str | None = Field(default=None, max_length=64)
    buyer: str | None = Field(default=None, max_length=32)  # keyed hash of the buyer id, never the id itself
    order_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()


class SalesSyncCursor(SQLModel, table=True):
    """Last marketplace_order id copied into sales_line."""

    __tablename__ = "sales_sync_cursor"
    name: str = Field(primary_key=True, max_length=40)
    last_id: int = 0
    updated_at: datetime = timestamp_field()


class SalesImport(SQLModel, table=True):
    __tablename__ = "sales_import"
    id: str = Field(primary_key=True, max_length=64)  # sha256 of the uploaded bytes + format
    filename: str = Field(max_length=300)
    file_format: str = Field(max_length=10)
    size_bytes: int
    status: str = Field(default="pending", max_length=20)  # pending | running | completed | failed
    total_rows: int = 0
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    duplicates: int = 0  # valid rows already known (an earlier import, a repeated file)
    error: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class SalesImportIssue(SQLModel, table=True):
    __tablename__ = "sales_import_issue"
    __table_args__ = (sa.UniqueConstraint("import_id", "row_number", "field", "message"),)
    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="sales_import.id", max_length=64)
    row_number: int
    field: str | None = Field(default=None, max_length=100)
    message: str = Field(max_length=500)
    severity: str = Field(default="error", max_length=10)
    code: str = Field(default="invalid_value", max_length=40)


class SalesImportBatch(SQLModel, table=True):
    __tablename__ = "sales_import_batch"
    import_id: str = Field(foreign_key="sales_import.id", max_length=64, primary_key=True)
    first_row: int = Field(primary_key=True)
    next_row: int
    next_offset: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    done: bool = False
    rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    created_at: datetime = timestamp_field()


class ForecastRunRow(SQLModel, table=True):
    __tablename__ = "forecast_run"
    id: str = Field(primary_key=True, max_length=200)
    status: str = Field(default="running", max_length=20)  # running | completed | failed
    retrain: bool = False
    requested_by: str | None = Field(default=None, max_length=100)
    skus: int = 0
    batches: int = 0
    retrained: int = 0
    # the run's backtest errors over every retrained SKU: selected mix and seasonal naive
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class ForecastModelRow(SQLModel, table=True):
    """Each SKU's model as chosen by the last rolling-origin backtest, with that backtest's errors."""

    __tablename__ = "forecast_model"
    sku: str = Field(primary_key=True, max_length=64)
    model: str = Field(max_length=40)
    segment: str = Field(max_length=20)
    n_obs: int = 0
    mae: float | None = None
    rmse: float | None = None
    wape: float | None = None
    mase: float | None = None
    naive_mae: float | None = None
    naive_wape: float | None = None
    naive_mase: float | None = None
    q80: float | None = None  # conformal interval half-widths (per day)
    q95: float | None = None
    run_id: str = Field(max_length=200)
    trained_at: datetime = timestamp_field()


class ForecastSeriesRow(SQLModel, table=True):
    """A SKU's latest daily forecast: `start` and one value per day in each list."""

    __tablename__ = "forecast_series"
    sku: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(max_length=200)
    model: str = Field(max_length=40)
    start: date
    yhat: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lo80: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hi80: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lo95: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hi95: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = timestamp_field()
