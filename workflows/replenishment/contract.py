"""The replenishment process's contract: the planning run after each forecast, and one `purchase-order` workflow
per PO (its decision, the email to the supplier, confirmation, receipts, cancellation). A leaf: pydantic and
the pure domain only."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from domain.bounds import MAX_UNITS_PER_MOVEMENT
from domain.decisions.rules import PURCHASE_ORDER, Proposal

TASK_QUEUE = "main"

REPLENISH_WORKFLOW = "replenishment-run"
PO_WORKFLOW = "purchase-order"
DECISION_TYPE = PURCHASE_ORDER

STATE_QUERY = "state"
CONFIRM_UPDATE = "confirm"
RECEIVE_UPDATE = "receive"
CANCEL_UPDATE = "cancel"
RESEND_SIGNAL = "resend"

OPEN_STATUSES = ("approved", "sent", "confirmed", "partially_received")  # units count as on order
FINAL_STATUSES = ("received", "cancelled", "rejected", "expired", "failed")


def replenish_workflow_id(run_id: str) -> str:
    return f"{run_id}-replenishment"


def po_workflow_id(po_id: str) -> str:
    return f"purchase-order-{po_id}"


def po_decision_id(po_id: str) -> str:
    return f"{po_id}-approval"


class ReplenishRunInput(BaseModel):
    run_id: str
    today: date
    propose_orders: bool | None = None  # None: settings.replenishment.propose_orders


class PoRef(BaseModel):
    po_id: str
    supplier_id: int
    supplier: str
    currency: str
    amount: str  # decimal string
    lines: int
    units: int
    proposal: Proposal


class PlanResult(BaseModel):
    skus: int
    alerts_new: int
    alerts_resolved: int
    outbox_id: int | None = None  # the run's alert digest, for deliver_notification
    purchase_orders: list[PoRef] = Field(default_factory=list)


class ReplenishRunResult(BaseModel):
    plan: PlanResult
    po_workflows: list[str] = Field(default_factory=list)


class PurchaseOrderInput(BaseModel):
    po_id: str
    proposal: Proposal
    # carried over continue-as-new (a PO is open for weeks)
    decided: bool = False


class PoStatusInput(BaseModel):
    po_id: str
    status: str
    note: str | None = None


class PoStatusResult(BaseModel):
    po_id: str
    status: str


class SendPoInput(BaseModel):
    po_id: str


class SendPoResult(BaseModel):
    po_id: str
    status: str  # sent | already_sent
    sent_to: str
    message_id: str


class ConfirmRequest(BaseModel):
    actor: str
    note: str | None = Field(default=None, max_length=1000)


class ReceiptLine(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=MAX_UNITS_PER_MOVEMENT)


class ReceiveRequest(BaseModel):
    receipt_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    lines: list[ReceiptLine] = Field(min_length=1, max_length=5000)
    actor: str


class ReceiveInput(ReceiveRequest):
    po_id: str


class ReceiveResult(BaseModel):
    po_id: str
    receipt_id: str
    applied: bool  # False: this receipt id was recorded before (a repeated request)
    status: str
    skus: list[str] = Field(default_factory=list)
    publish_workflow_id: str | None = None


class CancelRequest(BaseModel):
    actor: str
    reason: str = Field(default="", max_length=1000)


class PoState(BaseModel):
    po_id: str
    status: str
    decision_status: str | None = None
    send_attempts: int = 0
    last_error: str | None = None


PoStatus = Literal[
    "proposed", "approved", "sent", "confirmed", "partially_received", "received", "cancelled", "rejected",
    "expired", "failed",
]  # fmt: skip
