"""Product and variation writes with WooCommerce's validation, effects recording and product.updated webhooks."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from sandboxes.woocommerce.db import MUTABLE, UPDATE_SQL, now, product_json
from sandboxes.woocommerce.errors import WooError, invalid_id, invalid_param

if TYPE_CHECKING:
    from sandboxes.woocommerce.site import WooSite

PRICE = re.compile(r"^\d+(\.\d+)?$")
_NOT_DECIMAL = re.compile(r"\.(?![^.]+$)|[^0-9.-]")
GLOBAL_ID = re.compile(r"^[0-9-]+$")  # WooCommerce 9.2+: digits and hyphens, unique per store
PRODUCT_STATUSES = ("publish", "draft", "pending", "private")
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
PRODUCT_TYPES = ("simple", "variable", "grouped", "external")
GTIN = ("gtin", "upc", "ean", "isbn")  # what global_unique_id holds (WooCommerce >= 9.2)
EFFECT_FIELDS = ("sku", "regular_price", "sale_price", "status", "manage_stock", "stock_quantity")


def merge_meta(raw: str, items: Any) -> str:
    meta = json.loads(raw)
    if not isinstance(items, list):
        raise invalid_param("meta_data", "meta_data is not of type array.")
    for item in items:
        if not isinstance(item, dict) or "key" not in item:
            raise invalid_param("meta_data", "meta_data[0][key] is a required property.")
        found = next((m for m in meta if m["key"] == item["key"]), None)  # Woo updates meta by key
        if found is None:
            meta.append({"key": item["key"], "value": item.get("value")})
        else:
            found["value"] = item.get("value")
    return json.dumps(meta)


def wc_format_decimal(value: str) -> str:
    """What WooCommerce stores for a price string (wc_format_decimal): digits, the last dot and minus signs are kept,
    everything else dropped; "abc" becomes "", "12,50" becomes "1250"."""
    return _NOT_DECIMAL.sub("", value.strip())


def apply_fields(
    conn: sqlite3.Connection, row: dict[str, Any], fields: dict[str, Any], *, strict_prices: bool = False
) -> None:
    """Validate and apply a product / variation update to `row` in place; raise WooError on refusal.

    A price that is a string but no decimal is stored the way a real store stores it (wc_format_decimal), unless
    `strict_prices` (sandbox knob) refuses it. `stock_quantity` only counts while stock is managed: a real store
    ignores it (and forgets the count) when manage_stock is false after the update."""
    variation = row["type"] == "variation"
    if "name" in fields and not variation:
        row["name"] = str(fields["name"])
    if "description" in fields:
        row["description"] = str(fields["description"])
    for name in ("regular_price", "sale_price"):
        if name in fields:
            value = fields[name]
            if not isinstance(value, str):
                raise invalid_param(name, f"{name} is not of type string.")
            if value and not PRICE.match(value):
                if strict_prices:
                    raise invalid_param(name, f"{name} is not a valid decimal number.")
                value = wc_format_decimal(value)
            row[name] = value
    if "sku" in fields:
        sku = str(fields["sku"] or "") or None
        if sku is not None:
            clash = conn.execute(
                "SELECT id FROM wc_product WHERE sku = ? AND id != ?", (sku, row.get("id") or 0)
            ).fetchone()
            if clash is not None:
                raise WooError(
                    400, "product_invalid_sku", "Invalid or duplicated SKU.", data={"resource_id": clash[0]}
                )
        row["sku"] = sku
    if "status" in fields:
        if fields["status"] not in PRODUCT_STATUSES:
            raise invalid_param("status", f"status is not one of {', '.join(PRODUCT_STATUSES)}.")
        row["status"] = fields["status"]
    if "manage_stock" in fields:
        if not isinstance(fields["manage_stock"], bool):
            raise invalid_param("manage_stock", "manage_stock is not of type boolean.")
        row["manage_stock"] = int(fields["manage_stock"])
    if "stock_quantity" in fields:
        qty = fields["stock_quantity"]
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise invalid_param("stock_quantity", "stock_quantity is not of type integer.")
    if not row.get("manage_stock"):
        row["stock_quantity"] = None
    elif "stock_quantity" in fields:
        qty = fields["stock_quantity"]
        if qty < 0:
            # Sandbox policy: real Woo stores negative stock when backorders are allowed; this store has them off.
            raise WooError(
                400, "woocommerce_rest_invalid_stock_quantity", "Stock quantity cannot be negative."
            )
        row["stock_quantity"] = qty
    if "stock_status" in fields:
        if fields["stock_status"] not in STOCK_STATUSES:
            raise invalid_param("stock_status", f"stock_status is not one of {', '.join(STOCK_STATUSES)}.")
        row["stock_status"] = fields["stock_status"]
    if "global_unique_id" in fields:
        gid = str(fields["global_unique_id"] or "")
        if gid and (
            not GLOBAL_ID.match(gid)
            or conn.execute(
                "SELECT 1 FROM wc_product WHERE global_unique_id = ? AND id != ?", (gid, row.get("id") or 0)
            ).fetchone()
        ):
            raise WooError(
                400, "product_invalid_global_unique_id", "Invalid or duplicated GTIN, UPC, EAN or ISBN."
            )
        row["global_unique_id"] = gid
    if "images" in fields:
        row["images"] = json.dumps(
            [{"src": i.get("src", "")} for i in fields["images"] or [] if isinstance(i, dict)]
        )
    if "attributes" in fields:
        row["attributes"] = json.dumps(fields["attributes"] or [])
    if "meta_data" in fields:
        row["meta_data"] = merge_meta(row["meta_data"], fields["meta_data"])


class Catalog:
    def __init__(self, site: WooSite) -> None:
        self.site = site
        self.store = site.state.store

    def get(self, object_id: int, *, parent_id: int | None = None) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM wc_product WHERE id = ?", (object_id,))
        if row is None or not _in_collection(dict(row), parent_id):
            raise invalid_id("product_variation" if parent_id is not None else "product", 404)
        return dict(row)

    def to_json(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        variable = [r["id"] for r in rows if r["type"] == "variable"]
        from sandboxes.woocommerce.db import children_of

        kids = children_of(self.store.conn, variable) if variable else {}
        return [product_json(r, children=kids.get(r["id"]), site=self.site.url) for r in rows]

    def create(self, items: list[Any], *, parent_id: int | None = None) -> list[dict[str, Any]]:
        """Create products (or variations of `parent_id`); per-item answers, errors as {"id": 0, "error"}."""
        out: list[Any] = []
        made: list[dict[str, Any]] = []
        ts = now()
        with self.store.tx() as conn:
            for fields in items:
                try:
                    if not isinstance(fields, dict):
                        raise invalid_param("create", "create[0] is not of type object.")
                    kind = "variation" if parent_id is not None else fields.get("type", "simple")
                    if kind not in (*PRODUCT_TYPES, "variation"):
                        raise invalid_param("type", f"type is not one of {', '.join(PRODUCT_TYPES)}.")
                    row = _blank(kind, parent_id or 0, ts)
                    apply_fields(conn, row, fields, strict_prices=self.site.config.strict_prices)
                except WooError as exc:
                    out.append({"id": 0, "error": exc.body()})
                    continue
                cols = [c for c in row if c != "id"]
                cur = conn.execute(
                    f"INSERT INTO wc_product({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                    [row[c] for c in cols],
                )
                row["id"] = cur.lastrowid
                if parent_id:
                    conn.execute("UPDATE wc_product SET date_modified = ? WHERE id = ?", (ts, parent_id))
                made.append(row)
                out.append(row)
        self.site.state.record_effects(
            [(f"product:{r['id']}", "created", None, r["sku"] or r["id"]) for r in made]
        )
        return [self.to_json([o])[0] if "error" not in o else o for o in out]

    def update(self, items: list[Any], *, parent_id: int | None = None) -> list[dict[str, Any]]:
        """Batch-style update by id, all in one transaction; per-item answers like Woo's batch endpoint."""
        ids = [_as_id(it) for it in items]
        ts = now()
        effects: list[tuple[str, str, Any, Any]] = []
        changed: dict[int, dict[str, Any]] = {}
        out: list[dict[str, Any]] = []
        kind = "product_variation" if parent_id is not None else "product"
        with self.store.tx() as conn:
            marks = ",".join("?" * len(ids)) or "NULL"
            rows = {
                r["id"]: dict(r) for r in conn.execute(f"SELECT * FROM wc_product WHERE id IN ({marks})", ids)
            }
            for fields, oid in zip(items, ids, strict=True):
                row = rows.get(oid)
                if row is None or not _in_collection(row, parent_id):
                    out.append({"id": oid, "error": invalid_id(kind).body()})
                    continue
                before = {f: row[f] for f in MUTABLE}
                try:
                    apply_fields(conn, row, fields, strict_prices=self.site.config.strict_prices)
                except WooError as exc:
                    row.update(before)
                    out.append({"id": oid, "error": exc.body()})
                    continue
                diff = [
                    (f"product:{oid}", f, before[f], row[f]) for f in EFFECT_FIELDS if before[f] != row[f]
                ]
                if any(before[f] != row[f] for f in MUTABLE):
                    row["date_modified"] = ts
                    changed[oid] = row
                effects += diff
                out.append(row)
            conn.executemany(UPDATE_SQL, [[r[c] for c in MUTABLE] + [r["id"]] for r in changed.values()])
            parents = {r["parent_id"] for r in changed.values() if r["parent_id"]}
            if parents:  # Woo's deferred product sync saves the parent of a changed variation
                conn.executemany(
                    "UPDATE wc_product SET date_modified = ? WHERE id = ?", [(ts, p) for p in parents]
                )
        self.site.state.record_effects(effects)
        answered = [o if "error" in o else self.to_json([o])[0] for o in out]
        for obj in answered:
            if "error" not in obj and obj["id"] in changed:
                self.site.hooks.product_updated(obj)
        return answered

    def delete(
        self, ids: list[Any], *, parent_id: int | None = None, force: bool = True
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kind = "product_variation" if parent_id is not None else "product"
        for oid in (_as_id(i) for i in ids):
            with self.store.tx() as conn:
                found = conn.execute("SELECT * FROM wc_product WHERE id = ?", (oid,)).fetchone()
                row = dict(found) if found else None
                if row is None or not _in_collection(row, parent_id):
                    out.append({"id": oid, "error": invalid_id(kind).body()})
                    continue
                if force:
                    conn.execute("DELETE FROM wc_product WHERE id = ? OR parent_id = ?", (oid, oid))
                else:
                    conn.execute(
                        "UPDATE wc_product SET status = 'trash', date_modified = ? WHERE id = ?", (now(), oid)
                    )
            self.site.state.record_effect(
                f"product:{oid}", "status", row["status"], "deleted" if force else "trash"
            )
            out.append(self.to_json([row])[0])
        return out


def _blank(kind: str, parent_id: int, ts: str) -> dict[str, Any]:
    return {
        "parent_id": parent_id,
        "type": kind,
        "status": "publish",
        "sku": None,
        "name": "",
        "description": "",
        "regular_price": "",
        "sale_price": "",
        "manage_stock": 0,
        "stock_quantity": None,
        "stock_status": "instock",
        "global_unique_id": "",
        "attributes": "[]",
        "images": "[]",
        "meta_data": "[]",
        "date_created": ts,
        "date_modified": ts,
    }


def _as_id(item: Any) -> int:
    raw = item.get("id") if isinstance(item, dict) else item
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _in_collection(row: dict[str, Any], parent_id: int | None) -> bool:
    """/products holds products (and answers variations by id); /products/{p}/variations only p's variations."""
    if row["status"] == "trash":
        return False
    if parent_id is None:
        return True
    return row["type"] == "variation" and row["parent_id"] == parent_id
