"""The stock process's contract: workflow names and ids, its task queue, queries, and every payload.

A leaf: pydantic only. The API, the workflows and the activities take their types and ids from here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from domain.bounds import RowId

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)

ORDER_SYNC_WORKFLOW = "order-sync"
PUBLISH_WORKFLOW = "stock-publish"
ORDER_POLL_WORKFLOW = "order-poll"
ORDER_POLL_ALL_WORKFLOW = "order-poll-all"
RECONCILE_WORKFLOW = "stock-reconcile"
RECONCILE_ACCOUNT_WORKFLOW = "stock-reconcile-account"

PROGRESS_QUERY = "progress"  # stock-reconcile-account: ReconcileProgress
CHILDREN_QUERY = "children"  # stock-reconcile: the child workflow ids

RECONCILE_SCHEDULE_ID = "stock-reconcile-hourly"
ORDER_POLL_SCHEDULE_ID = "order-poll"


def order_workflow_id(account_id: int, order_id: str) -> str:
    """Webhook and poller derive the same id, so an order is processed by exactly one workflow."""
    return f"order-{account_id}-{order_id}"


def publish_workflow_id(sku: str, version: int) -> str:
    """One publish per stock version of a SKU: a repeated adjustment request starts nothing new."""
    return f"stock-publish-{sku}-v{version}"


def manual_reconcile_id(account_ids: list[int] | None, at: datetime, *, deployment: str) -> str:
    """A reconcile someone asked for: the same accounts within the same minute are one run. `deployment` (the task
    queue prefix) keeps two deployments sharing a Temporal namespace from joining each other's runs."""
    scope = (
        "all" if not account_ids else hashlib.sha256(",".join(map(str, sorted(set(account_ids)))).encode())
    )
    key = scope if isinstance(scope, str) else scope.hexdigest()[:12]
    return f"stock-reconcile-manual-{deployment}-{key}-{at:%Y%m%dT%H%M}"


class OrderLinePayload(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class OrderSyncInput(BaseModel):
    account_id: int
    marketplace: str
    order_id: str
    # empty: the marketplace's notification carried ids only (eBay); the workflow reads the order first
    lines: list[OrderLinePayload]
    source: str = "webhook"  # webhook | poll | api
    policy: str | None = None  # cancel | backorder; None: the worker's settings.shortage_policy
    received_at: float | None = None  # epoch seconds at webhook receipt, for latency figures


class AllocateResult(BaseModel):
    status: str  # allocated | backordered | cancelled | unmanaged
    duplicate: bool = False
    allocated: list[str] = []
    short: list[dict[str, object]] = []
    accounts: list[int] = []  # accounts listing the order's SKUs (push targets)


class PushInput(BaseModel):
    account_id: int
    skus: list[str] = Field(max_length=5000)
    reason: str
    idempotency_key: str
    received_at: float | None = (
        None  # an order's webhook receipt (epoch s), for the order sync latency metric
    )


class PushItem(BaseModel):
    sku: str
    status: str  # applied | rejected | conflict | failed | skipped
    quantity: int | None = None
    message: str | None = None


class PushResult(BaseModel):
    account_id: int
    items: list[PushItem]
    rounds: int = 1

    @property
    def retry_skus(self) -> list[str]:
        return [i.sku for i in self.items if i.status == "failed"]


class OrderSyncResult(BaseModel):
    order_id: str
    status: str
    duplicate: bool
    pushed: dict[int, int] = {}  # account id -> SKUs applied
    failed: dict[int, list[str]] = {}
    cancelled_on_marketplace: bool = False
    cancel_message: str | None = None
    received_at: float | None = None  # echoed from the input: webhook receipt, for latency figures


class CancelInput(BaseModel):
    account_id: int
    order_id: str
    reason: str
    idempotency_key: str


class CancelResult(BaseModel):
    status: str  # applied | rejected | failed (marketplace outcome of the cancellation)
    message: str | None = None


class FetchOrderInput(BaseModel):
    account_id: int
    order_id: str


class FetchOrderResult(BaseModel):
    found: bool
    cancelled: bool = False
    lines: list[OrderLinePayload] = []


class ReconcileInput(BaseModel):
    account_ids: list[RowId] | None = None  # None: every enabled account
    batch_size: int = Field(2000, ge=100, le=5000)


class AccountsInput(BaseModel):
    account_ids: list[RowId] | None = None  # None: every enabled account


class OrderPollAllInput(BaseModel):
    account_ids: list[RowId] | None = None  # None: every enabled account


class ReconcileAccountInput(BaseModel):
    run_id: str
    account_id: int
    batch_size: int = 2000
    # carried across continue-as-new
    cursor: str | None = None
    started: bool = False
    batches: int = 0
    checked: int = 0
    drifted: int = 0
    corrected: int = 0
    failed: int = 0
    unknown: int = 0


class ReconcileBatchInput(BaseModel):
    run_id: str
    account_id: int
    cursor: str | None
    batch_size: int
    batch_no: int


class ReconcileStartResult(BaseModel):
    created: bool  # False: the run row existed (a retried start, or continue-as-new)


class ReconcileCloseResult(BaseModel):
    missing: int  # listings of the account the run never saw


class ReconcileBatchResult(BaseModel):
    next_cursor: str | None
    checked: int
    drifted: int
    corrected: int
    failed: int
    unknown: int


class ReconcileProgress(BaseModel):
    run_id: str
    account_id: int
    status: str
    batches: int
    checked: int
    drifted: int
    corrected: int
    failed: int
    unknown: int
    error: str | None = None


class ReconcileResult(BaseModel):
    runs: list[ReconcileProgress]


class AccountRef(BaseModel):
    account_id: int
    marketplace: str
    name: str


class PublishInput(BaseModel):
    skus: list[str] = Field(max_length=5000)
    reason: str
    exclude_account_id: int | None = None


class PublishTargetsResult(BaseModel):
    account_ids: list[int]  # accounts listing any of the SKUs


class PublishResult(BaseModel):
    pushed: dict[int, int] = {}  # account id -> SKUs applied
    failed: dict[int, list[str]] = {}


class PollInput(BaseModel):
    account_id: int
    policy: str | None = None  # None: the worker's settings.shortage_policy
    max_pages: int = 20


class PollPage(BaseModel):
    orders: list[OrderSyncInput]
    next_cursor: str | None
    has_more: bool


class PollResult(BaseModel):
    account_id: int
    orders_seen: int
    pages: int


class SaveCursorInput(BaseModel):
    account_id: int
    cursor: str | None


class SaveCursorResult(BaseModel):
    saved: bool


class AccountsResult(BaseModel):
    accounts: list[AccountRef]


class OrderPollAllResult(BaseModel):
    polls: list[PollResult]
