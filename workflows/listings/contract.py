"""The listings process's contract: listing sync (one workflow per account, batches of listings, continue-as-new),
the daily fan-out, product archiving (deactivating a product's listings through a decision), and every payload.

A leaf: pydantic and the pure domain only. Only ids, cursors and counters travel through Temporal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.listings.matching import SyncReport

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)
SYNC_WORKFLOW = "listing-sync"
SYNC_ALL_WORKFLOW = "listing-sync-all"
SYNC_ALL_SCHEDULE_ID = "listing-sync-daily"
ARCHIVE_WORKFLOW = "product-archive"
PROGRESS_QUERY = "progress"
DEACTIVATE_DECISION = "listing_deactivate"  # decision type whose action ends a product's listings

Trigger = Literal["connect", "schedule", "manual"]


def sync_workflow_id(account_id: int) -> str:
    """One listing sync per account at a time: asking again while one runs joins it."""
    return f"listing-sync-{account_id}"


def archive_workflow_id(sku: str, archived_at: str) -> str:
    return f"product-archive-{sku}-{archived_at}"


class SyncCursor(BaseModel):
    """Where a sync stands; carried across continue-as-new."""

    run_id: str
    cursor: str | None = None
    pages: int = 0
    listings: int = 0
    batches: int = 0
    report: SyncReport = Field(default_factory=SyncReport)


class ListingSyncInput(BaseModel):
    account_id: int
    trigger: Trigger = "manual"
    # fixed when the sync starts, so a retried batch covers the same listings whatever the worker's settings
    batch_listings: int = Field(default=2000, ge=1)
    batches_per_run: int = Field(default=50, ge=1)
    heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    state: SyncCursor | None = None


class ListingSyncResult(BaseModel):
    account_id: int
    run_id: str
    status: Literal["completed", "failed"]
    error: str | None = None
    pages: int = 0
    listings: int = 0
    report: SyncReport = Field(default_factory=SyncReport)


class ListingSyncProgress(BaseModel):
    account_id: int
    run_id: str | None = None
    phase: Literal["starting", "reading", "finishing", "completed", "failed"] = "starting"
    pages: int = 0
    listings: int = 0
    report: SyncReport = Field(default_factory=SyncReport)
    error: str | None = None


class StartRunInput(BaseModel):
    account_id: int
    run_id: str
    trigger: Trigger


class StartRunResult(BaseModel):
    run_id: str


class SyncBatchInput(BaseModel):
    account_id: int
    run_id: str
    cursor: str | None = None
    first_page: bool = True
    batch_listings: int


class SyncBatchResult(BaseModel):
    next_cursor: str | None
    done: bool
    pages: int
    listings: int
    report: SyncReport


class FinishRunInput(BaseModel):
    account_id: int
    run_id: str
    status: Literal["completed", "failed"]
    error: str | None = None
    pages: int = 0
    listings: int = 0
    report: SyncReport = Field(default_factory=SyncReport)


class FinishRunResult(BaseModel):
    report: SyncReport


class SyncAllInput(BaseModel):
    trigger: Trigger = "schedule"
    batch_listings: int = Field(default=2000, ge=1)
    batches_per_run: int = Field(default=50, ge=1)


class SyncAllResult(BaseModel):
    started: list[int] = Field(default_factory=list)


class ArchiveInput(BaseModel):
    sku: str
    actor: str
    archived_at: str


class ArchiveResult(BaseModel):
    sku: str
    listings: int
    decision_id: str | None = None
    status: str | None = None  # the decision's: executed | rejected | expired | failed ...
    ended: list[int] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class LinkedListingsInput(BaseModel):
    sku: str


class LinkedListing(BaseModel):
    listing_id: int
    account_id: int
    marketplace: str
    account_name: str
    marketplace_sku: str
    status: str


class LinkedListingsResult(BaseModel):
    listings: list[LinkedListing] = Field(default_factory=list)


class EndListingsInput(BaseModel):
    sku: str
    key: str  # idempotency key prefix: the decision's action key
    listings: list[LinkedListing]


class EndListingsResult(BaseModel):
    ended: list[int] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
