"""The purchase order as the supplier receives it: a PDF (fpdf2, pure Python) and a CSV of the same lines."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fpdf import FPDF


@dataclass(frozen=True)
class PoLine:
    sku: str
    supplier_sku: str | None
    name: str
    quantity: int
    unit_cost: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_cost * self.quantity


@dataclass(frozen=True)
class PoDocument:
    po_id: str
    supplier: str
    contact: str | None
    currency: str
    buyer: str
    issued_at: datetime
    lines: list[PoLine]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def po_csv(doc: PoDocument) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["po_id", "sku", "supplier_sku", "description", "quantity", "unit_cost", "amount", "currency"])
    for line in doc.lines:
        w.writerow([doc.po_id, line.sku, line.supplier_sku or "", line.name, line.quantity,
                    f"{line.unit_cost:.2f}", f"{line.amount:.2f}", doc.currency])  # fmt: skip
    return out.getvalue().encode()


def _latin(text: str) -> str:
    # the core PDF fonts are Latin-1: anything else is shown as '?' rather than failing the whole PO
    return text.encode("latin-1", "replace").decode("latin-1")


def po_pdf(doc: PoDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Purchase order {doc.po_id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for text in (f"To: {doc.supplier}" + (f" <{doc.contact}>" if doc.contact else ""), f"From: {doc.buyer}",
                 f"Date: {doc.issued_at:%Y-%m-%d}", f"Currency: {doc.currency}"):  # fmt: skip
        pdf.cell(0, 6, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (35, 30, 60, 20, 22, 23)
    pdf.set_font("Helvetica", "B", 9)
    for w, h in zip(
        widths, ("SKU", "Supplier SKU", "Description", "Qty", "Unit cost", "Amount"), strict=True
    ):
        pdf.cell(w, 7, h, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for line in doc.lines:
        cells = (line.sku, line.supplier_sku or "", line.name[:40], str(line.quantity), f"{line.unit_cost:.2f}",
                 f"{line.amount:.2f}")  # fmt: skip
        for w, text in zip(widths, cells, strict=True):
            pdf.cell(w, 6, _latin(text), border=1)
        pdf.ln()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:-1]), 7, "Total", border=1)
    pdf.cell(widths[-1], 7, f"{doc.total:.2f}", border=1)
    return bytes(pdf.output())
