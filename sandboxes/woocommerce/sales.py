"""Orders: a customer buying (POST /_sandbox/orders) and order status changes through the REST API.

Like WooCommerce, placing an order reduces stock, and cancelling an order whose stock was reduced restores it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandboxes.woocommerce.catalog import merge_meta
from sandboxes.woocommerce.db import now, order_json, product_json
from sandboxes.woocommerce.errors import WooError, invalid_id, invalid_param

if TYPE_CHECKING:
    from sandboxes.woocommerce.site import WooSite

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")


class Sales:
    def __init__(self, site: WooSite) -> None:
        self.site = site
        self.store = site.state.store

    def get(self, order_id: int, *, status: int = 404) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM wc_order WHERE id = ?", (order_id,))
        if row is None:
            raise invalid_id("shop_order", status)
        return dict(row)

    def place(self, sku: str, quantity: int, number: str | None) -> tuple[dict[str, Any], bool]:
        """Returns (order json, created). Refuses to take stock below zero (409)."""
        if quantity <= 0:
            raise WooError(400, "woocommerce_sandbox_invalid_quantity", "quantity must be positive")
        ts = now()
        with self.store.tx() as conn:
            if number is not None:
                existing = conn.execute("SELECT * FROM wc_order WHERE number = ?", (number,)).fetchone()
                if existing is not None:
                    return order_json(existing), False
            found = conn.execute(
                "SELECT * FROM wc_product WHERE sku = ? AND status != 'trash'", (sku,)
            ).fetchone()
            if found is None:
                raise WooError(404, "woocommerce_sandbox_unknown_sku", f"no product has SKU {sku!r}")
            product = dict(found)
            old_qty = product["stock_quantity"]
            if product["manage_stock"]:
                if (old_qty or 0) - quantity < 0:
                    raise WooError(
                        409, "woocommerce_sandbox_insufficient_stock", f"only {old_qty} of {sku!r} in stock"
                    )
                product["stock_quantity"] = (old_qty or 0) - quantity
                product["date_modified"] = ts
                conn.execute(
                    "UPDATE wc_product SET stock_quantity = ?, date_modified = ? WHERE id = ?",
                    (product["stock_quantity"], ts, product["id"]),
                )
            price = Decimal(product["sale_price"] or product["regular_price"] or "0")
            variation = product["type"] == "variation"
            line = {
                "name": product["name"],
                "product_id": product["parent_id"] if variation else product["id"],
                "variation_id": product["id"] if variation else 0,
                "quantity": quantity,
                "subtotal": str(price * quantity),
                "total": str(price * quantity),
                "sku": product["sku"] or "",
                "price": float(price),
            }
            cur = conn.execute(
                "INSERT INTO wc_order(number, status, currency, total, line_items, stock_reduced, date_created, "
                "date_modified) VALUES (?, 'processing', ?, ?, '[]', ?, ?, ?)",
                (
                    number,
                    self.site.config.currency,
                    str(price * quantity),
                    int(bool(product["manage_stock"])),
                    ts,
                    ts,
                ),
            )
            order_id = cur.lastrowid
            line["id"] = order_id * 10 + 1  # type: ignore[operator]
            conn.execute("UPDATE wc_order SET line_items = ? WHERE id = ?", (json.dumps([line]), order_id))
            order = dict(conn.execute("SELECT * FROM wc_order WHERE id = ?", (order_id,)).fetchone())
        effects = [(f"order:{order_id}", "status", None, "processing")]
        if product["manage_stock"]:
            effects.append((f"product:{product['id']}", "stock_quantity", old_qty, product["stock_quantity"]))
        self.site.state.record_effects(effects)
        body = order_json(order)
        self.site.hooks.emit("order.created", body)
        if product["manage_stock"]:
            self.site.hooks.product_updated(product_json(product, site=self.site.url))
        return body, True

    def update(self, order_id: int, fields: Any) -> dict[str, Any]:
        if not isinstance(fields, dict):
            raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
        ts = now()
        restocked: list[dict[str, Any]] = []
        effects: list[tuple[str, str, Any, Any]] = []
        with self.store.tx() as conn:
            found = conn.execute("SELECT * FROM wc_order WHERE id = ?", (order_id,)).fetchone()
            if found is None:
                raise invalid_id("shop_order", 400)
            order = dict(found)
            before = dict(order)
            if "status" in fields:
                if fields["status"] not in ORDER_STATUSES:
                    raise invalid_param("status", f"status is not one of {', '.join(ORDER_STATUSES)}.")
                order["status"] = fields["status"]
            if "customer_note" in fields:
                order["customer_note"] = str(fields["customer_note"])
            if "meta_data" in fields:
                order["meta_data"] = merge_meta(order["meta_data"], fields["meta_data"])
            if order["status"] == "cancelled" and before["status"] != "cancelled" and order["stock_reduced"]:
                restocked = self._restock(conn, order, ts, effects)
                order["stock_reduced"] = 0
            if order != before:
                order["date_modified"] = ts
                conn.execute(
                    "UPDATE wc_order SET status=?, customer_note=?, meta_data=?, stock_reduced=?, date_modified=? "
                    "WHERE id=?",
                    (
                        order["status"],
                        order["customer_note"],
                        order["meta_data"],
                        order["stock_reduced"],
                        ts,
                        order_id,
                    ),
                )
        effects.append((f"order:{order_id}", "status", before["status"], order["status"]))
        self.site.state.record_effects(effects)
        body = order_json(order)
        if order != before:
            self.site.hooks.emit("order.updated", body)
        for product in restocked:
            self.site.hooks.product_updated(product_json(product, site=self.site.url))
        return body

    @staticmethod
    def _restock(conn: Any, order: dict[str, Any], ts: str, effects: list[Any]) -> list[dict[str, Any]]:
        out = []
        for line in json.loads(order["line_items"]):
            pid = line.get("variation_id") or line.get("product_id")
            found = conn.execute("SELECT * FROM wc_product WHERE id = ?", (pid,)).fetchone()
            if found is None or not found["manage_stock"]:
                continue
            product = dict(found)
            new = (product["stock_quantity"] or 0) + int(line["quantity"])
            effects.append((f"product:{pid}", "stock_quantity", product["stock_quantity"], new))
            product.update(stock_quantity=new, date_modified=ts)
            conn.execute(
                "UPDATE wc_product SET stock_quantity = ?, date_modified = ? WHERE id = ?", (new, ts, pid)
            )
            out.append(product)
        return out
