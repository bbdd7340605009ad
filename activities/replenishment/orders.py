"""Reorder suggestions grouped by supplier -> proposed purchase orders with their decision proposals.

A PO id is derived from the run and the supplier, so a retried activity finds the POs it wrote. A supplier whose
last proposal still waits for a decision gets no second one: the open proposal stands until someone decides.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import sqlalchemy as sa

from activities.replenishment.inputs import PO, POL
from domain.decisions.rules import Factor, Proposal
from merchflow.db.types import utcnow
from workflows.replenishment.contract import DECISION_TYPE, PoRef

_CENT = Decimal("0.01")


def po_id_for(run_id: str, supplier_id: int) -> str:
    return "po-" + hashlib.sha256(f"{run_id}\x00{supplier_id}".encode()).hexdigest()[:16]


def _money(v: float) -> Decimal:
    return Decimal(str(v)).quantize(_CENT, rounding=ROUND_HALF_UP)


def propose_orders(
    conn: sa.Connection, lines: pd.DataFrame, suppliers: pd.DataFrame, *, run_id: str
) -> list[PoRef]:
    """`lines`: suggestion lines (supplier_id, sku, order_qty, unit_cost, basis, reorder_point, on_hand, ...)."""
    lines = lines[lines["supplier_id"] != "(unassigned)"]
    if lines.empty:
        return []
    waiting = set(conn.execute(sa.select(PO.c.supplier_id).where(PO.c.status == "proposed")).scalars())
    sup = suppliers.set_index("supplier_id")
    out = []
    for supplier_id, group in lines.groupby(
        lines["supplier_id"].astype(int), sort=True
    ):  # one PO per supplier
        sid = int(supplier_id)
        po_id = po_id_for(run_id, sid)
        exists = conn.execute(sa.select(PO.c.id).where(PO.c.id == po_id)).first() is not None
        if sid in waiting and not exists:
            continue
        s = sup.loc[sid]
        qty = group["order_qty"].round().astype(int)
        costs = [_money(c) for c in group["unit_cost"].astype(float)]
        total = sum((c * q for c, q in zip(costs, qty, strict=True)), Decimal(0))
        if not exists:
            conn.execute(sa.insert(PO).values(
                id=po_id, supplier_id=sid, status="proposed", currency=str(s["currency"]), total=total,
                run_id=run_id, created_at=utcnow(),
            ))  # fmt: skip
            conn.execute(sa.insert(POL), [
                {"po_id": po_id, "sku": sku, "quantity": int(q), "unit_cost": c, "received": 0}
                for sku, q, c in zip(group["sku"], qty, costs, strict=True)
            ])  # fmt: skip
        forecast_share = float((group["basis"] == "forecast").mean())
        top = group.sort_values("line_value", ascending=False).head(10)
        proposal = Proposal(
            decision_type=DECISION_TYPE, subject=po_id,
            current={"supplier": str(s["name"]), "supplier_id": sid, "status": "proposed",
                     "amount": str(total), "currency": str(s["currency"])},
            proposed={"amount": str(total), "quantity": int(qty.sum()), "lines": len(group)},
            # the forecast's share of the lines: defaults (no sales history) are guesses a human should see
            confidence=round(0.5 + 0.45 * forecast_share, 3),
            reasoning=(
                f"{len(group)} SKUs at or below their reorder point; order up to reorder point + EOQ, rounded to "
                f"MOQ {int(s['moq'])} and pack size {int(s['pack_size'])}. Lead time {s['lead_time_days']:g} days."
            ),
            factors=[
                Factor(name=r.sku, value=round(r.order_qty),
                       detail=f"on hand {r.on_hand:g}, on order {r.on_order:g}, reorder point {r.reorder_point:.1f}, "
                              f"EOQ {r.eoq:.1f} ({r.basis})")
                for r in top.itertuples()
            ],
            requested_by="replenishment",
        )  # fmt: skip
        out.append(PoRef(
            po_id=po_id, supplier_id=sid, supplier=str(s["name"]), currency=str(s["currency"]), amount=str(total),
            lines=len(group), units=int(qty.sum()), proposal=proposal,
        ))  # fmt: skip
    return out
