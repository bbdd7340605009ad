"""The forecasting process's contract: sales imports and the nightly forecast run - workflow names and ids, the
task queue, queries, and every payload. A leaf: pydantic only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

TASK_QUEUE = "main"

SALES_IMPORT_WORKFLOW = "sales-import"
FORECAST_RUN_WORKFLOW = "forecast-run"
PROGRESS_QUERY = "progress"
NIGHTLY_SCHEDULE_ID = "forecast-nightly"


def sales_import_workflow_id(import_id: str, *, deployment: str) -> str:
    """The uploaded bytes' digest: the same file uploaded twice is one import. `deployment` (the task queue
    prefix) keeps two deployments sharing a Temporal namespace from joining each other's imports."""
    return f"sales-import-{deployment}-{import_id}"


def manual_forecast_run_id(retrain: bool | None, at: datetime, *, deployment: str) -> str:
    """A run someone asked for: the same request within the same minute is one run (a double click, a retry)."""
    mode = "r" if retrain else "n" if retrain is False else "a"
    return f"forecast-run-manual-{deployment}-{at:%Y%m%dT%H%M}-{mode}"


FileFormat = Literal["csv", "jsonl"]


# ---------------------------------------------------------------- sales imports
class SalesImportCounts(BaseModel):
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    duplicates: int = 0

    def plus(self, other: SalesImportCounts) -> SalesImportCounts:
        return SalesImportCounts(**{k: getattr(self, k) + getattr(other, k) for k in type(self).model_fields})


class SalesImportInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    filename: str
    size_bytes: int
    created_by: str | None = None
    batch_size: int = Field(default=5000, ge=1)
    heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    # carried over continue-as-new
    next_offset: int | None = None
    next_row: int = 1
    counts: SalesImportCounts = Field(default_factory=SalesImportCounts)


class SalesPrepareInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    filename: str
    size_bytes: int
    created_by: str | None = None
    workflow_id: str


class SalesPrepareResult(BaseModel):
    total_rows: int = 0
    data_offset: int = 0
    fatal_error: str | None = None


class SalesBatchInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    start_offset: int
    first_row: int
    batch_size: int


class SalesBatchResult(BaseModel):
    first_row: int
    next_row: int
    next_offset: int
    done: bool
    counts: SalesImportCounts


class SalesFinishInput(BaseModel):
    import_id: str
    status: Literal["completed", "failed"]
    error: str | None = None


class SalesImportResult(BaseModel):
    import_id: str
    status: str
    error: str | None = None
    counts: SalesImportCounts = Field(default_factory=SalesImportCounts)


class SalesImportProgress(BaseModel):
    import_id: str
    phase: str  # preparing | importing | finishing | completed | failed
    total_rows: int | None = None
    counts: SalesImportCounts = Field(default_factory=SalesImportCounts)


# ---------------------------------------------------------------- the forecast run
class ForecastRunInput(BaseModel):
    retrain: bool | None = None  # None: when the last backtest is older than retrain_every_days
    batch_size: int | None = Field(default=None, ge=50, le=20_000)  # None: settings.forecasting.batch_size
    replenish: bool = True  # then plan replenishment (alerts, purchase-order decisions)
    requested_by: str = "schedule"
    heartbeat_seconds: int = Field(default=60, ge=2, le=600)
    # carried over continue-as-new
    run_id: str | None = None
    cursor: str = ""
    totals: ForecastTotals | None = None
    start: StartForecastResult | None = None


class SyncOrdersInput(BaseModel):
    page_size: int = Field(default=5000, ge=1, le=50_000)


class SyncOrdersResult(BaseModel):
    copied: int
    last_id: int


class StartForecastInput(BaseModel):
    run_id: str
    retrain: bool | None
    requested_by: str


class StartForecastResult(BaseModel):
    retrain: bool
    today: date  # in settings.time_zone: the last complete day is the day before
    batch_size: int
    skus: int  # SKUs with sales in the history window


class ForecastBatchInput(BaseModel):
    run_id: str
    after_sku: str
    limit: int
    retrain: bool
    today: date


class ForecastTotals(BaseModel):
    batches: int = 0
    skus: int = 0
    retrained: int = 0
    short_history: int = 0
    # sums over the backtest rows of retrained SKUs: |error| of the selected model and of seasonal naive, |y|
    abs_err: float = 0.0
    naive_abs_err: float = 0.0
    abs_y: float = 0.0
    points: int = 0

    def add(self, other: ForecastTotals) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class ForecastBatchResult(BaseModel):
    last_sku: str | None
    done: bool
    totals: ForecastTotals


class FinishForecastInput(BaseModel):
    run_id: str
    status: Literal["completed", "failed"]
    totals: ForecastTotals
    error: str | None = None


class ForecastRunSummary(BaseModel):
    run_id: str
    status: str
    retrain: bool
    totals: ForecastTotals
    wape: float | None = None
    naive_wape: float | None = None
    improvement_vs_naive: float | None = None


class AnalyticsRefreshInput(BaseModel):
    run_id: str
    today: date


class AnalyticsRefreshResult(BaseModel):
    snapshots: list[str]
    skus: int


class ForecastRunResult(BaseModel):
    summary: ForecastRunSummary
    analytics: AnalyticsRefreshResult | None = None
    replenishment_workflow_id: str | None = None


class ForecastProgress(BaseModel):
    run_id: str
    phase: str  # syncing | starting | forecasting | analytics | replenishment | done | failed
    cursor: str
    totals: ForecastTotals


ForecastRunInput.model_rebuild()
