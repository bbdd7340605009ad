"""Purchase orders after the proposal: the `purchase` decision action (registered by the replenishment feature),
status changes, confirmation, receipts into the stock ledger, cancellation. Every change takes the PO row's lock
(FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and re-reads it first."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from activities.decisions.actions import ActionFailed
from activities.replenishment.tables import PurchaseOrder, PurchaseOrderLine, PurchaseOrderReceipt
from activities.stock.repository import apply_adjustment
from domain.decisions.rules import as_decimal
from merchflow.db.models import AuditLog
from merchflow.db.types import utcnow
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput
from workflows.replenishment.contract import FINAL_STATUSES, ReceiveRequest, ReceiveResult, po_decision_id


class PoError(ValueError):
    """A request the PO's state does not allow (non-retryable: the API answers 409 / 422 with it)."""


def lock_po(session: Session, po_id: str) -> PurchaseOrder | None:
    q = select(PurchaseOrder).where(PurchaseOrder.id == po_id)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return session.exec(q).first()


def _audit(session: Session, po_id: str, action: str, actor: str, details: dict[str, Any]) -> None:
    session.add(AuditLog(actor=actor[:100], action=action, entity_type="purchase_order", entity_id=po_id,
                         details=details, at=utcnow()))  # fmt: skip


class PurchaseOrderHandler:
    """Approving a `purchase` decision approves its PO; the PO's workflow then sends it to the supplier. The
    premise: the PO still waits for this decision, at the amount the approver saw."""

    def __init__(self, deps: Deps | None = None) -> None:
        self.deps = deps

    def lock(self, session: Session, req: ExecuteInput) -> None:
        session.info.setdefault("purchase_orders", {})[req.proposal.subject] = lock_po(
            session, req.proposal.subject
        )

    def _po(self, session: Session, req: ExecuteInput) -> PurchaseOrder:
        po = session.info.get("purchase_orders", {}).get(req.proposal.subject)
        if po is None:
            raise ActionFailed(f"purchase order {req.proposal.subject} does not exist")
        return po  # type: ignore[no-any-return]

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        po = self._po(session, req)
        if req.decision_id != po_decision_id(po.id):
            # only the decision the PO's workflow waits on places it: that workflow sends it once the action ran;
            # any other `purchase` decision (e.g. created through the bulk API) would approve a PO nobody sends
            raise ActionFailed(
                f"purchase order {po.id} is approved through decision {po_decision_id(po.id)} only"
            )
        if po.status != "proposed":
            raise ActionFailed(f"purchase order {po.id} is {po.status}, not waiting for approval")
        if as_decimal(req.proposal.current.get("amount")) != po.total:
            return {**req.proposal.current, "amount": str(po.total)}
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        po = self._po(session, req)
        po.status, po.approved_by, po.approved_at = "approved", req.approver, utcnow()
        po.decision_id = req.decision_id
        session.add(po)
        _audit(session, po.id, "po_approved", req.approver or "policy", {"decision_id": req.decision_id})
        return {"po_id": po.id, "status": po.status, "amount": str(po.total)}


def set_status(session: Session, po_id: str, status: str, *, actor: str, note: str | None = None) -> str:
    po = lock_po(session, po_id)
    if po is None:
        raise PoError(f"purchase order {po_id} does not exist")
    if po.status in FINAL_STATUSES:
        return po.status  # a closed PO stays closed (a repeated request changes nothing)
    if status == "confirmed" and po.status not in ("approved", "sent", "confirmed"):
        raise PoError(f"purchase order {po_id} is {po.status}: only a sent PO can be confirmed")
    if status == "cancelled" and po.status == "partially_received":
        note = (note or "") + " (remaining quantities cancelled)"
    now = utcnow()
    po.status = status
    if status == "confirmed":
        po.confirmed_at = po.confirmed_at or now
    if status in FINAL_STATUSES:
        po.closed_at = now
    if note:
        po.note = note[:1000]
    session.add(po)
    _audit(session, po_id, f"po_{status}", actor, {"note": note})
    return po.status


def receive(session: Session, po_id: str, req: ReceiveRequest) -> ReceiveResult:
    """Book a delivery: each line enters the stock ledger as a receipt (idempotency key per PO, receipt and SKU),
    the PO's lines count it, and the PO becomes partially received or received."""
    po = lock_po(session, po_id)
    if po is None:
        raise PoError(f"purchase order {po_id} does not exist")
    if session.get(PurchaseOrderReceipt, (po_id, req.receipt_id)) is not None:
        return ReceiveResult(po_id=po_id, receipt_id=req.receipt_id, applied=False, status=po.status)
    if po.status not in ("approved", "sent", "confirmed", "partially_received"):
        raise PoError(f"purchase order {po_id} is {po.status}: nothing can be received against it")
    lines = {
        line.sku: line
        for line in session.exec(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po_id))
    }
    merged: dict[str, int] = {}
    for line in req.lines:
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    for sku, qty in merged.items():
        if sku not in lines:
            raise PoError(f"SKU {sku} is not on purchase order {po_id}")
        open_qty = lines[sku].quantity - lines[sku].received
        if qty > open_qty:
            raise PoError(f"{qty} units of {sku} exceed the {open_qty} still expected on {po_id}")
    for sku, qty in sorted(merged.items()):
        apply_adjustment(
            session, sku=sku, kind="receipt", quantity=qty, reason=f"purchase order {po_id}",
            idempotency_key=f"po:{po_id}:{req.receipt_id}:{sku}"[:200], external_ref=po_id, actor=req.actor,
        )  # fmt: skip
        lines[sku].received += qty
        session.add(lines[sku])
    complete = all(line.received >= line.quantity for line in lines.values())
    now = utcnow()
    po.status = "received" if complete else "partially_received"
    po.received_at = now if complete else po.received_at
    po.closed_at = now if complete else None
    session.add(po)
    session.add(PurchaseOrderReceipt(po_id=po_id, receipt_id=req.receipt_id, created_by=req.actor[:100],
                                     lines=[{"sku": s, "quantity": q} for s, q in sorted(merged.items())]))  # fmt: skip
    _audit(session, po_id, "po_receipt", req.actor, {"receipt_id": req.receipt_id, "lines": merged})
    return ReceiveResult(
        po_id=po_id, receipt_id=req.receipt_id, applied=True, status=po.status, skus=sorted(merged)
    )
