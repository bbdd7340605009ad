"""orderCancel: marks the order cancelled, restocks its lines at the demo location, and queues the
orders/cancelled and inventory_levels/update webhooks."""

from __future__ import annotations

import uuid
from typing import Any

from graphql import GraphQLResolveInfo

from sandboxes.shopify import db
from sandboxes.shopify.objects import Ctx
from sandboxes.shopify.webhooks import inventory_level_payload, order_payload


def resolve_order_cancel(
    _: Any,
    info: GraphQLResolveInfo,
    orderId: str,
    refund: bool,
    restock: bool,
    reason: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict[str, Any]:
    ctx: Ctx = info.context
    oid = db.parse_gid(orderId, "Order")
    row = ctx.store.one("SELECT * FROM shp_order WHERE id = ?", [oid]) if oid else None
    if row is None:
        err = {"code": "NOT_FOUND", "field": ["orderId"], "message": "Order does not exist"}
        return {
            "job": None,
            "orderCancelUserErrors": [err],
            "userErrors": [{"field": err["field"], "message": err["message"]}],
        }
    if row["cancelled_at"]:
        err = {"code": "INVALID", "field": ["orderId"], "message": "Order has already been cancelled"}
        return {
            "job": None,
            "orderCancelUserErrors": [err],
            "userErrors": [{"field": err["field"], "message": err["message"]}],
        }
    now = db.now_iso()
    effects, levels = [], []
    with ctx.store.tx() as c:
        c.execute(
            "UPDATE shp_order SET cancelled_at = ?, cancel_reason = ?, updated_at = ?, financial_status = ? WHERE id = ?",
            (now, reason, now, "REFUNDED" if refund else "VOIDED", oid),
        )
        lines = c.execute("SELECT * FROM shp_line WHERE order_id = ?", (oid,)).fetchall()
        c.execute("UPDATE shp_line SET current_quantity = 0 WHERE order_id = ?", (oid,))
        if restock:
            for ln in lines:
                if ln["variant_id"] is None:
                    continue
                iid = db.item_id(ln["variant_id"])
                lv = c.execute(
                    "SELECT * FROM shp_level WHERE inventory_item_id = ? AND location_id = ?",
                    (iid, db.LOCATION_ID),
                ).fetchone()
                if lv is None:
                    continue
                new = lv["available"] + ln["current_quantity"]
                c.execute(
                    "UPDATE shp_level SET available = ?, on_hand = on_hand + ?, updated_at = ? "
                    "WHERE inventory_item_id = ? AND location_id = ?",
                    (new, ln["current_quantity"], now, iid, db.LOCATION_ID),
                )
                effects.append((ln["sku"], "available", lv["available"], new))
                levels.append(inventory_level_payload(iid, db.LOCATION_ID, new, now))
    effects.append((f"order:{oid}", "status", "open", "cancelled"))
    ctx.state.record_effects(effects)
    order = ctx.store.one("SELECT * FROM shp_order WHERE id = ?", [oid])
    lines_now = ctx.store.query("SELECT * FROM shp_line WHERE order_id = ?", [oid])
    assert order is not None
    ctx.events.append(("orders/cancelled", order_payload(order, lines_now)))
    ctx.events += [("inventory_levels/update", p) for p in levels]
    return {
        "job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": True},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }
