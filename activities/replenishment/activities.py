"""Replenishment activities: the planning run (sync: pandas over the whole catalogue), and a PO's steps -
status changes, sending to the supplier, receipts. Failures that no retry can heal are non-retryable
ApplicationErrors, so the PO workflow reports them at once (and an update's caller gets the message)."""

from __future__ import annotations

import smtplib

import sqlalchemy as sa
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common.heartbeats import heartbeat
from activities.decisions.tables import NotificationOutbox
from activities.replenishment import purchase_orders
from activities.replenishment.planning import run_replenishment
from activities.replenishment.sending import CannotSend, build_message, load_document, smtp_send
from activities.replenishment.tables import ReplenishmentRun
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.replenishment.contract import (
    PlanResult,
    PoStatusInput,
    PoStatusResult,
    ReceiveInput,
    ReceiveRequest,
    ReceiveResult,
    ReplenishRunInput,
    SendPoInput,
    SendPoResult,
)

log = get_logger(__name__)


class ReplenishmentActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.settings = deps.settings

    @activity.defn(name="replenishment-plan")
    def plan(self, inp: ReplenishRunInput) -> PlanResult:
        propose = (
            self.settings.replenishment.propose_orders if inp.propose_orders is None else inp.propose_orders
        )
        heartbeat("planning")
        result = run_replenishment(
            self.engine, self.settings, run_id=inp.run_id, today=inp.today, propose=propose
        )
        with session_scope(self.engine) as s:
            if (
                result.outbox_id is None
            ):  # a retry after the first attempt committed: its digest is still there
                row = s.exec(
                    sa.select(NotificationOutbox.id).where(  # type: ignore[call-overload]
                        NotificationOutbox.dedupe_key == f"stock-alerts:{inp.run_id}"
                    )
                ).first()
                result.outbox_id = row[0] if row else None
            run = s.get(ReplenishmentRun, inp.run_id) or ReplenishmentRun(id=inp.run_id)
            run.status, run.skus, run.finished_at = "completed", result.skus, utcnow()
            run.alerts_new, run.alerts_resolved = result.alerts_new, result.alerts_resolved
            run.orders, run.outbox_id = len(result.purchase_orders), result.outbox_id
            s.add(run)
        log.info("replenishment planned", run_id=inp.run_id, skus=result.skus, alerts=result.alerts_new,
                 orders=len(result.purchase_orders))  # fmt: skip
        return result

    @activity.defn(name="purchase-order-status")
    def set_status(self, inp: PoStatusInput) -> PoStatusResult:
        try:
            with session_scope(self.engine) as s:
                status = purchase_orders.set_status(s, inp.po_id, inp.status, actor="workflow", note=inp.note)
        except purchase_orders.PoError as exc:
            raise ApplicationError(str(exc), type="PoError", non_retryable=True) from None
        return PoStatusResult(po_id=inp.po_id, status=status)

    @activity.defn(name="purchase-order-receive")
    def receive(self, inp: ReceiveInput) -> ReceiveResult:
        req = ReceiveRequest(receipt_id=inp.receipt_id, lines=inp.lines, actor=inp.actor)
        try:
            with session_scope(self.engine) as s:
                return purchase_orders.receive(s, inp.po_id, req)
        except (purchase_orders.PoError, LookupError) as exc:
            raise ApplicationError(str(exc), type="PoError", non_retryable=True) from None

    @activity.defn(name="purchase-order-send")
    def send(self, inp: SendPoInput) -> SendPoResult:
        with session_scope(self.engine) as s:
            po = purchase_orders.lock_po(s, inp.po_id)
            if po is None:
                raise ApplicationError(
                    f"purchase order {inp.po_id} does not exist", type="PoError", non_retryable=True
                )
            if po.sent_at is not None:
                return SendPoResult(
                    po_id=po.id,
                    status="already_sent",
                    sent_to=po.sent_to or "",
                    message_id=po.message_id or "",
                )
            try:
                doc, supplier = load_document(s, po, self.settings)
                if not supplier.email:
                    raise CannotSend(f"supplier {supplier.name} has no email address")
                sender = self.settings.replenishment.po_email_from or self.settings.notifications.smtp_from
                msg = build_message(doc, sender=sender, to=supplier.email)
            except CannotSend as exc:
                po.send_error = str(exc)[:1000]
                s.add(po)
                s.commit()
                raise ApplicationError(str(exc), type="CannotSend", non_retryable=True) from None
        try:
            smtp_send(self.settings, msg)
        except CannotSend as exc:
            self._send_error(inp.po_id, str(exc))
            raise ApplicationError(str(exc), type="CannotSend", non_retryable=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._send_error(inp.po_id, str(exc))
            raise
        with session_scope(self.engine) as s:
            po = purchase_orders.lock_po(s, inp.po_id)
            assert po is not None
            po.sent_at, po.sent_to, po.message_id, po.send_error = (
                utcnow(),
                supplier.email,
                msg["Message-ID"],
                None,
            )
            if po.status == "approved":
                po.status = "sent"
            s.add(po)
        log.info("purchase order sent", po_id=inp.po_id, to=supplier.email)
        return SendPoResult(
            po_id=inp.po_id, status="sent", sent_to=supplier.email or "", message_id=msg["Message-ID"]
        )

    def _send_error(self, po_id: str, error: str) -> None:
        with session_scope(self.engine) as s:
            po = purchase_orders.lock_po(s, po_id)
            if po is not None:
                po.send_error = error[:1000]
                s.add(po)
