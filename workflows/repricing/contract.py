"""The repricing process's contract: workflow names and ids, its task queue, queries / signals, and every payload.

A leaf: pydantic only. The API, the workflows and the activities take their types and ids from here.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from domain.bounds import RowId

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)

RUN_WORKFLOW = "reprice-run"
ACCOUNT_WORKFLOW = "reprice-account"
PUBLISH_WORKFLOW = "reprice-publish"
TRAIN_WORKFLOW = "demand-model-train"
COMPETITOR_REFRESH_WORKFLOW = "competitor-refresh"

PROGRESS_QUERY = "progress"
PUBLISH_SIGNAL = "more"

NIGHTLY_SCHEDULE_ID = "reprice-nightly"
RETRAIN_SCHEDULE_ID = "demand-model-weekly"


def publish_workflow_id(account_id: int) -> str:
    return f"reprice-publish-{account_id}"


def decision_id(run_id: str, account_id: int, sku: str) -> str:
    """A run proposes one decision per listing: a retried batch finds the ids it created before."""
    return "rp-" + hashlib.sha256(f"{run_id}\x00{account_id}\x00{sku}".encode()).hexdigest()[:32]


def manual_run_id(request: RepriceRunInput, at: datetime, *, deployment: str) -> str:
    """A run someone asked for: the same request within the same minute is one run (a double click, a retried
    call), whatever the client's idempotency habits. `deployment` (the task queue prefix) keeps two deployments
    sharing a Temporal namespace from joining each other's runs."""
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:12]
    return f"reprice-{'dry' if request.dry_run else 'run'}-{deployment}-{digest}-{at:%Y%m%dT%H%M}"


class RepriceFilter(BaseModel):
    """Which listings a run looks at. Empty = every active listing of every enabled account."""

    skus: list[str] | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=200)
    account_ids: list[RowId] | None = None


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
    # seconds spent per phase, summed over batches and pushes (they overlap): read, price, propose, write (of which
    # write_wait: waiting for this worker's other SQLite writers), push_read, send, record
    phase_seconds: dict[str, float] = Field(default_factory=dict)

    def add(self, other: AccountTotals) -> None:
        for name in type(self).model_fields:
            if name != "phase_seconds":
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.add_seconds(other.phase_seconds)

    def add_seconds(self, seconds: dict[str, float]) -> None:
        for phase, s in seconds.items():
            self.phase_seconds[phase] = round(self.phase_seconds.get(phase, 0.0) + s, 3)


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
    phase_seconds: dict[str, float] = Field(default_factory=dict)  # push_read, send, record


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


class ScrapeTarget(BaseModel):
    sku: str
    url: str


class ScrapeTargetsResult(BaseModel):
    targets: list[ScrapeTarget]
    last_sku: str | None
    done: bool


class ScrapeCompetitorsInput(BaseModel):
    """The scraper queue's `scrape-competitor-prices` input."""

    targets: list[ScrapeTarget] = Field(max_length=500)
    force: bool = False  # ignore the 24 h cache


class ScrapeOutcome(BaseModel):
    sku: str
    url: str
    status: (
        str  # stored | cached | rejected | refused | disallowed | http_error | error | no_data | unknown_sku
    )
    price: Decimal | None = None
    currency: str | None = None
    matched_by: str | None = None
    method: str | None = None
    message: str | None = None


class ScrapeCompetitorsResult(BaseModel):
    outcomes: list[ScrapeOutcome]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


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
