"""Sending an approved PO to its supplier: one email with the PDF and the CSV attached, over the notification
settings' SMTP server. The Message-ID is the PO's, so a resend after a lost answer is recognisably the same
mail; a PO already marked sent is not sent again."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from sqlmodel import Session, select

from activities.replenishment.documents import PoDocument, PoLine, po_csv, po_pdf
from activities.replenishment.tables import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierItem
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from merchflow.settings import Settings


class CannotSend(ValueError):
    """Missing facts (no supplier email, no SMTP server): no retry helps until someone fixes them."""


def load_document(session: Session, po: PurchaseOrder, settings: Settings) -> tuple[PoDocument, Supplier]:
    supplier = session.get(Supplier, po.supplier_id)
    if supplier is None:
        raise CannotSend(f"supplier {po.supplier_id} of {po.id} no longer exists")
    rows = session.exec(
        select(PurchaseOrderLine, Product.name, SupplierItem.supplier_sku)  # type: ignore[call-overload]
        .join(Product, Product.sku == PurchaseOrderLine.sku, isouter=True)
        .join(SupplierItem, (SupplierItem.sku == PurchaseOrderLine.sku) & (SupplierItem.supplier_id == po.supplier_id),
              isouter=True)
        .where(PurchaseOrderLine.po_id == po.id).order_by(PurchaseOrderLine.sku)
    ).all()  # fmt: skip
    lines = [
        PoLine(line.sku, ssku, name or line.sku, line.quantity, line.unit_cost) for line, name, ssku in rows
    ]
    buyer = settings.replenishment.po_email_from or settings.notifications.smtp_from
    doc = PoDocument(
        po.id, supplier.name, supplier.email, po.currency, buyer, po.approved_at or utcnow(), lines
    )
    return doc, supplier


def build_message(doc: PoDocument, *, sender: str, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = f"Purchase order {doc.po_id} ({len(doc.lines)} lines, {doc.total:.2f} {doc.currency})"
    msg["Message-ID"] = f"<{doc.po_id}@merchflow>"
    msg.set_content(
        f"Hello {doc.supplier},\n\nplease find attached our purchase order {doc.po_id}: {len(doc.lines)} lines, "
        f"{sum(line.quantity for line in doc.lines)} units, {doc.total:.2f} {doc.currency}.\n"
        "Please confirm by replying to this email.\n"
    )
    msg.add_attachment(po_pdf(doc), maintype="application", subtype="pdf", filename=f"{doc.po_id}.pdf")
    msg.add_attachment(po_csv(doc), maintype="text", subtype="csv", filename=f"{doc.po_id}.csv")
    return msg


def smtp_send(settings: Settings, msg: EmailMessage) -> None:
    cfg = settings.notifications
    if not cfg.smtp_host:
        raise CannotSend("no SMTP server is configured (MERCHFLOW_NOTIFICATIONS__SMTP_HOST)")
    smtp: smtplib.SMTP
    if cfg.smtp_security == "ssl":
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds)
    with smtp:
        if cfg.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if cfg.smtp_user and cfg.smtp_password:
            smtp.login(cfg.smtp_user, cfg.smtp_password.get_secret_value())
        smtp.send_message(msg)
