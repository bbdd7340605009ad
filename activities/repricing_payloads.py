"""Typed inputs and results of the repricing workflows and activities (imported by workflows: pydantic only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

PROGRESS_QUERY = "progress"
PUBLISH_SIGNAL = "more"


class RepriceFilter(BaseModel):
    """Which listings a run looks at. Empty = every active listing of every enabled account."""

    skus: list[str] | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=200)
    account_ids: list[int] | None = None


class RepriceRunInput(BaseModel):
    dry_run: bool = False
    filters: RepriceFilter = Field(default_factory=RepriceFilter)
    batch_size: int | None = Field(default=None, ge=10, le=25_000)  # None: settings.repricing.batch_size
    refresh_competitors: bool = True
    requested_by: str = "schedule"
    # how soon a dead worker's batch or push is given to another worker
    heartbeat_seconds: int = Field(default=60, ge=2, le=600)


class AccountRef(BaseModel):
    account_id: int
    marketplace: str
    name: str


class StartRunInput(BaseModel):
    run_id: str
    dry_run: bool
    filters: RepriceFilter
    requested_by: str


class StartRunResult(BaseModel):
    accounts: list[AccountRef]
    scraper_queue: str  # the real name of the `scraper` task queue, where competitor pages are fetched
    today: date  # in settings.time_zone: seasonal factors and inventory age are counted in local days
    batch_size: int
    needs_model: bool  # no demand model was ever trained: train one before pricing


class FeeRatesInput(BaseModel):
    account_id: int
    filters: RepriceFilter


class FeeRate(BaseModel):
    rate: float
    fixed: float = 0.0
    source: str = "settings"  # settings | amazon:getMyFeesEstimate


class FeeRates(BaseModel):
    """Fee per category for one account ("" = the account's default)."""

    by_category: dict[str, FeeRate]


class AccountTotals(BaseModel):
    batches: int = 0
    evaluated: int = 0
    proposed: int = 0  # suggestions that change the price
    auto_approved: int = 0
    pending: int = 0
    recommended: int = 0  # manual mode: recorded only
    pushed: int = 0
    push_rejected: int = 0
    push_failed: int = 0  # still failing after the per-item retries
    premise_changed: int = 0
    expected_margin_delta: Decimal = Decimal(0)  # per day at today's run-rate
    expected_revenue_delta: Decimal = Decimal(0)

    def add(self, other: AccountTotals) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class RepriceAccountInput(BaseModel):
    run_id: str
    account: AccountRef
    dry_run: bool
    filters: RepriceFilter
    batch_size: int
    today: date
    fees: FeeRates | None = None  # None: not looked up yet (the child does it first)
    heartbeat_seconds: int = 60
    cursor: str = ""  # last SKU done (batches go in SKU order)
    totals: AccountTotals | None = None  # carried over continue-as-new


class RepriceProgress(BaseModel):
    run_id: str
    account_id: int
    marketplace: str
    status: Literal["running", "completed", "failed"]
    phase: str  # fees | pricing | pushing | done
    cursor: str
    totals: AccountTotals


class RepriceBatchInput(BaseModel):
    run_id: str
    account_id: int
    marketplace: str
    dry_run: bool
    filters: RepriceFilter
    after_sku: str
    limit: int
    today: date
    fees: FeeRates


class RepriceBatchResult(BaseModel):
    last_sku: str | None  # None: nothing left after the cursor
    done: bool
    totals: AccountTotals  # this batch only (read back from the rows, so a retried batch reports the same)


class PushPricesInput(BaseModel):
    """Push approved target prices of one account's listings with SKUs in (after_sku, through_sku]."""

    account_id: int
    after_sku: str = ""
    through_sku: str | None = None  # None: to the end
    limit: int = Field(default=2000, ge=1, le=25_000)
    run_id: str | None = None  # proposals of this run get their push outcome
    idempotency_key: str


class PushPricesResult(BaseModel):
    account_id: int
    sent: int = 0
    applied: int = 0
    rejected: int = 0
    retryable: int = 0  # failed / conflict: still waiting with their target price
    last_sku: str | None = None  # last SKU read (a cursor for paging with `limit`)
    more: bool = False  # `limit` was reached: more listings with target prices may follow


class FinishRunInput(BaseModel):
    run_id: str
    status: Literal["completed", "failed"]
    totals: AccountTotals
    error: str | None = None


class RunSummary(BaseModel):
    run_id: str
    dry_run: bool
    status: str
    totals: AccountTotals
    accounts: dict[int, AccountTotals] = Field(default_factory=dict)
    notify_outbox_id: int | None = None  # summary notice for approvers when changes wait


class RepriceRunResult(BaseModel):
    summary: RunSummary


class RunPhase(BaseModel):
    """The parent's own progress (accounts' counters come from the children's `progress` query)."""

    run_id: str
    phase: str  # starting | training | competitors | pricing | finishing | done
    children: list[str]
    finished: dict[int, AccountTotals] = Field(default_factory=dict)


# ---------------------------------------------------------------- publishing decisions approved later
class PublishPricesInput(BaseModel):
    account_id: int
    page_size: int = Field(default=2000, ge=1, le=25_000)
    rescan: bool = False


class PublishKick(BaseModel):
    reason: str = "approved"


class PublishPricesResult(BaseModel):
    account_id: int
    applied: int
    rejected: int
    still_failing: int


# ---------------------------------------------------------------- competitor refresh
# marketplaces whose pricing APIs show other sellers' offers (Shopify / WooCommerce are our own shops)
MARKET_PRICE_MARKETPLACES = ("amazon", "ebay")


class CompetitorRefreshInput(BaseModel):
    accounts: list[AccountRef]
    filters: RepriceFilter
    scraper_queue: str
    account_index: int = 0  # progress carried over continue-as-new
    cursor: str = ""
    scrape_cursor: str = ""
    stored: int = 0
    scraped: int = 0


class MarketPricesInput(BaseModel):
    account_id: int
    filters: RepriceFilter
    after_sku: str
    limit: int = 200


class MarketPricesResult(BaseModel):
    last_sku: str | None
    done: bool
    asked: int = 0
    stored: int = 0
    skipped_fresh: int = 0


class ScrapeTargetsInput(BaseModel):
    filters: RepriceFilter
    after_sku: str
    limit: int = Field(default=100, le=500)


class ScrapeTargetItem(BaseModel):
    sku: str
    url: str


class ScrapeTargetsResult(BaseModel):
    targets: list[ScrapeTargetItem]  # same shape as activities.competitors.ScrapeTarget
    last_sku: str | None
    done: bool


class ScrapeRequest(BaseModel):
    """The scraper queue's `scrape-competitor-prices` input (activities.competitors.ScrapeCompetitorsInput)."""

    targets: list[ScrapeTargetItem] = Field(max_length=500)
    force: bool = False


class ScrapeItemOutcome(BaseModel):
    sku: str
    url: str
    status: (
        str  # stored | cached | rejected | refused | disallowed | http_error | error | no_data | unknown_sku
    )


class ScrapeSummary(BaseModel):
    outcomes: list[ScrapeItemOutcome]


class CompetitorRefreshResult(BaseModel):
    stored: int
    scraped: int


# ---------------------------------------------------------------- demand model
class TrainInput(BaseModel):
    history_days: int | None = None  # None: settings.repricing.history_days
    period_days: int | None = None


class TrainResult(BaseModel):
    model_id: int | None  # None: not enough history to learn anything
    rows: int
    categories: int
    validation_mae_log: float | None = None
    validation_mape: float | None = None
