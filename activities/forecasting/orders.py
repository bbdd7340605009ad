"""The engine's own orders as sales history: allocated / backordered `marketplace_order` lines copied into
`sales_line` (source `order`), in id order behind a cursor that never passes an order still being processed."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from activities.forecasting.sales_repository import CURSOR, LINE, insert_ignore
from activities.stock.tables import MarketplaceOrder
from merchflow.db.models import Product
from merchflow.db.types import utcnow

ORDERS = MarketplaceOrder.__table__  # type: ignore[attr-defined]
PRODUCT = Product.__table__  # type: ignore[attr-defined]
CURSOR_NAME = "marketplace_order"
SOLD = ("allocated", "backordered")


def _key(account_id: int, order_id: str, sku: str) -> str:
    return "ord:" + hashlib.sha256(f"{account_id}\x1f{order_id}\x1f{sku}".encode()).hexdigest()[:48]


def sync_orders(conn: sa.Connection, *, limit: int = 5000) -> tuple[int, int, bool]:
    """Copy the next orders after the cursor. Returns (lines copied, cursor, more to do)."""
    last = conn.execute(sa.select(CURSOR.c.last_id).where(CURSOR.c.name == CURSOR_NAME)).scalar() or 0
    rows = conn.execute(
        sa.select(ORDERS.c.id, ORDERS.c.account_id, ORDERS.c.marketplace, ORDERS.c.order_id, ORDERS.c.status,
                  ORDERS.c.lines, ORDERS.c.received_at)
        .where(ORDERS.c.id > last).order_by(ORDERS.c.id).limit(limit)
    ).all()  # fmt: skip
    lines, cursor = [], last
    for r in rows:
        if r.status == "received":  # not allocated yet: it may still become a sale; wait for it
            break
        cursor = r.id
        if r.status not in SOLD:
            continue
        for line in r.lines or []:
            sku, qty = str(line.get("sku", ""))[:64], int(line.get("quantity") or 0)
            if sku and qty:
                lines.append({"line_key": _key(r.account_id, r.order_id, sku), "source": "order", "sku": sku,
                              "sold_on": r.received_at.date(), "quantity": qty, "channel": r.marketplace,
                              "order_ref": f"{r.account_id}:{r.order_id}"[:200], "created_at": utcnow()})  # fmt: skip
    if lines:
        skus = sorted({x["sku"] for x in lines})
        prices = dict(
            conn.execute(sa.select(PRODUCT.c.sku, PRODUCT.c.price).where(PRODUCT.c.sku.in_(skus))).all()
        )
        for x in lines:
            x["unit_price"] = prices.get(x["sku"])  # the list price of the day the order was copied
        conn.execute(insert_ignore(conn, LINE).on_conflict_do_nothing(index_elements=["line_key"]), lines)
    if cursor != last:
        stmt = insert_ignore(conn, CURSOR).values(name=CURSOR_NAME, last_id=cursor, updated_at=utcnow())
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"last_id": cursor}))
    return len(lines), cursor, len(rows) == limit and cursor != last
