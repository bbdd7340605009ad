"""The arbitrage process's contract: workflow names and ids, signals and queries, decision types, and every payload.

A leaf: pydantic and the pure domain only. The API, the workflows and the activities take their types and ids from
here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.arbitrage.negotiation import NegotiationRules

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)

SCAN_WORKFLOW = "arbitrage-scan"
DEAL_WORKFLOW = "arbitrage-deal"

SELLER_REPLY_SIGNAL = "seller_reply"
RECEIVED_SIGNAL = "received"
SOLD_SIGNAL = "sold"
CHECK_SALES_SIGNAL = "check_sales"
STATE_QUERY = "state"

PURCHASE_DECISION = (
    "purchase"  # the decisions mechanism's type whose action buys (activities.arbitrage.purchase)
)
OFFER_DECISION = "arbitrage_offer"  # an offer to a seller above the approval threshold; its action sends it

DEAL_STATE_ATTRIBUTE = "DealState"  # Temporal search attribute (merchflow.temporal)


def schedule_id(search_id: int) -> str:
    return f"arbitrage-search-{search_id}"


def scan_workflow_id(search_id: int) -> str:
    """The schedule starts runs under this id (Temporal appends the start time); a manual run adds `-manual-...`."""
    return f"arbitrage-scan-{search_id}"


def deal_workflow_id(deal_id: str) -> str:
    return f"arbitrage-deal-{deal_id}"


def deal_id_for(offer_key: str) -> str:
    """One deal per offer, whichever scan finds it first: a retried batch or another search finds the same id."""
    return "D" + hashlib.sha256(offer_key.encode()).hexdigest()[:15]


def purchase_decision_id(deal_id: str) -> str:
    return f"buy-{deal_id}"


def offer_decision_id(deal_id: str, round_no: int) -> str:
    return f"offer-{deal_id}-{round_no}"


# ---------------------------------------------------------------- saved searches (API)
class SearchQueryIn(BaseModel):
    keywords: str = Field(default="", max_length=200)
    category: str | None = Field(default=None, max_length=100)
    min_price: Decimal | None = Field(default=None, gt=0, le=1_000_000)
    max_price: Decimal | None = Field(default=None, gt=0, le=1_000_000)
    condition: str | None = Field(default=None, max_length=40)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=20000)


# ---------------------------------------------------------------- scan
class ScanInput(BaseModel):
    search_id: int = Field(ge=1)
    max_offers: int | None = Field(default=None, ge=1, le=10_000_000)  # None: the saved search's own
    batch_size: int | None = Field(default=None, ge=10, le=20_000)  # offers per activity; None: settings
    # carried over continue-as-new
    scan_id: str | None = None
    cursor: str | None = None
    seen: int = 0
    duplicates: int = 0
    skipped: int = 0
    opportunities: int = 0


class ScanResult(BaseModel):
    scan_id: str
    offers: int
    duplicates: int
    skipped: int
    opportunities: int
    deals: list[str] = Field(default_factory=list)  # the last run's started deals (bounded)


class ScanBatchInput(BaseModel):
    scan_id: str
    search_id: int
    cursor: str | None
    limit: int  # offers this batch


class ScanBatchResult(BaseModel):
    next_cursor: str | None
    done: bool
    offers: int
    duplicates: int
    skipped: int
    deals: list[str]  # opportunities worth a workflow (their deal ids)


class StartScanInput(BaseModel):
    search_id: int


class ScanPlan(BaseModel):
    max_offers: int  # 0: the search is disabled
    batch_size: int


class FinishScanInput(BaseModel):
    scan_id: str
    status: str
    offers: int
    duplicates: int
    skipped: int
    opportunities: int


# ---------------------------------------------------------------- deal
class DealInput(BaseModel):
    deal_id: str = Field(min_length=1, max_length=40)
    # continue-as-new while waiting for the sale starts again at that step
    resume: Literal["start", "sale"] = "start"
    sale_deadline: datetime | None = None


class DealView(BaseModel):
    """What the deal workflow needs to run a deal: the scan's numbers and verdict, the source's capabilities and
    the rules of the day (copied in, so the workflow never reads settings)."""

    deal_id: str
    title: str
    source: str
    source_id: str
    action: Literal["buy", "negotiate"]
    currency: str
    asking_price: Decimal
    shipping: Decimal
    max_price: Decimal
    target_price: Decimal
    can_message: bool
    can_checkout: bool
    rules: NegotiationRules
    delivery_timeout_hours: float
    sale_check_minutes: float
    max_hold_days: float


class DealStatus(BaseModel):
    deal_id: str
    state: str
    reason: str | None = None
    offers_made: int = 0
    last_offer: Decimal | None = None
    agreed_price: Decimal | None = None
    waiting_for: str | None = None  # seller_reply | approval | delivery | sale
    deadline: datetime | None = None


class DealResult(BaseModel):
    deal_id: str
    state: str
    reason: str | None = None
    realised_profit: Decimal | None = None


class SellerReplySignal(BaseModel):
    message_id: str = Field(max_length=100)
    text: str = Field(max_length=10_000)  # untrusted


class ReceiptSignal(BaseModel):
    condition: str = Field(max_length=20)
    photos: list[str] = Field(default_factory=list, max_length=20)  # blob keys
    notes: str = Field(default="", max_length=2000)
    received_by: str = Field(max_length=100)


class SaleSignal(BaseModel):
    sale_price: Decimal = Field(gt=0)
    fees: Decimal | None = Field(default=None, ge=0)
    marketplace: str | None = None
    order_ref: str | None = None
    recorded_by: str = "system"


class DealTransition(BaseModel):
    deal_id: str
    state: str
    reason: str | None = None
    actor: str = "system"
    fields: dict[str, Any] = Field(default_factory=dict)  # columns to set with the state (agreed_price, ...)


class SendOfferInput(BaseModel):
    deal_id: str
    round_no: int
    amount: Decimal | None
    text: str


class SendOfferResult(BaseModel):
    external_id: str
    sent: bool  # False: sent by an earlier attempt


class ReplyInput(BaseModel):
    deal_id: str
    external_id: str
    text: str


class ReplyResult(BaseModel):
    intent: str
    amount: Decimal | None
    new: bool  # False: this message was handled before


class PollRepliesInput(BaseModel):
    deal_id: str


class PollRepliesResult(BaseModel):
    replies: list[SellerReplySignal]


class ReserveInput(BaseModel):
    deal_id: str
    price: Decimal  # the agreed price: the amount reserved is price + shipping (+ tax, card fee)


class ReserveResult(BaseModel):
    ok: bool
    amount: Decimal
    violations: list[str] = Field(default_factory=list)


class ReleaseInput(BaseModel):
    deal_id: str
    status: Literal["released", "refunded", "sold"]


class ProposalInput(BaseModel):
    deal_id: str
    price: Decimal
    round_no: int = 0  # offer decisions: which round


class RefundInput(BaseModel):
    deal_id: str
    reason: str


class RefundResult(BaseModel):
    refunded: Decimal
    order_cancelled: bool


class ReceiveInput(BaseModel):
    deal_id: str
    receipt: ReceiptSignal


class ReceiveResult(BaseModel):
    sku: str
    landed_cost: Decimal
    list_price: Decimal
    listed: list[str] = Field(default_factory=list)  # marketplaces it went live on
    failed: list[str] = Field(default_factory=list)


class FindSaleInput(BaseModel):
    deal_id: str


class FindSaleResult(BaseModel):
    sold: bool
    sale: SaleSignal | None = None


class RecordSaleInput(BaseModel):
    deal_id: str
    sale: SaleSignal


class RecordSaleResult(BaseModel):
    realised_profit: Decimal
    predicted_profit: Decimal | None
