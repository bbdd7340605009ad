"""Sandbox tables (one row per product or variation, like wp_posts) and their REST v3 JSON shapes."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS wc_product (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL DEFAULT 'simple',
    status TEXT NOT NULL DEFAULT 'publish',
    sku TEXT UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    regular_price TEXT NOT NULL DEFAULT '',
    sale_price TEXT NOT NULL DEFAULT '',
    manage_stock INTEGER NOT NULL DEFAULT 0,
    stock_quantity INTEGER,
    stock_status TEXT NOT NULL DEFAULT 'instock',
    global_unique_id TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '[]',
    images TEXT NOT NULL DEFAULT '[]',
    meta_data TEXT NOT NULL DEFAULT '[]',
    date_created TEXT NOT NULL,
    date_modified TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_wc_product_parent ON wc_product(parent_id);
CREATE INDEX IF NOT EXISTS ix_wc_product_modified ON wc_product(date_modified);
CREATE TABLE IF NOT EXISTS wc_order (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT UNIQUE,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    customer_note TEXT NOT NULL DEFAULT '',
    line_items TEXT NOT NULL,
    meta_data TEXT NOT NULL DEFAULT '[]',
    stock_reduced INTEGER NOT NULL DEFAULT 0,
    date_created TEXT NOT NULL,
    date_modified TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_wc_order_modified ON wc_order(date_modified, id);
"""

# Columns a product update may change, in UPDATE order
MUTABLE = (
    "name",
    "description",
    "sku",
    "regular_price",
    "sale_price",
    "status",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "global_unique_id",
    "attributes",
    "images",
    "meta_data",
    "date_modified",
)
UPDATE_SQL = "UPDATE wc_product SET " + ", ".join(f"{c} = ?" for c in MUTABLE) + " WHERE id = ?"
STORE_CURRENCY = "USD"
SITE = "http://127.0.0.1:8704"  # replaced by the app's configured address


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "product"


def _meta(raw: str) -> list[dict[str, Any]]:
    return [{"id": i + 1, **m} for i, m in enumerate(json.loads(raw))]


def product_json(
    row: dict[str, Any] | sqlite3.Row, *, children: list[int] | None = None, site: str = SITE
) -> dict[str, Any]:
    r = dict(row)
    managed = bool(r["manage_stock"])
    qty = r["stock_quantity"]
    price = r["sale_price"] or r["regular_price"]
    stock_status = ("instock" if (qty or 0) > 0 else "outofstock") if managed else r["stock_status"]
    slug = slugify(r["name"] or str(r["id"]))
    out = {
        "id": r["id"],
        "name": r["name"],
        "slug": slug,
        "permalink": f"{site}/product/{slug}/",
        "date_created": r["date_created"],
        "date_created_gmt": r["date_created"],
        "date_modified": r["date_modified"],
        "date_modified_gmt": r["date_modified"],
        "type": r["type"],
        "status": r["status"],
        "featured": False,
        "catalog_visibility": "visible",
        "description": r["description"],
        "short_description": "",
        "sku": r["sku"] or "",
        "global_unique_id": r["global_unique_id"],
        "price": price,
        "regular_price": r["regular_price"],
        "sale_price": r["sale_price"],
        "on_sale": bool(r["sale_price"]),
        "purchasable": price != "",
        "manage_stock": managed,
        "stock_quantity": qty if managed else None,
        "stock_status": stock_status,
        "backorders": "no",
        "parent_id": r["parent_id"],
        "categories": [],
        "images": [{"id": i + 1, **img} for i, img in enumerate(json.loads(r["images"]))],
        "attributes": json.loads(r["attributes"]),
        "variations": children or [],
        "meta_data": _meta(r["meta_data"]),
    }
    if r["type"] == "variation":  # the variations endpoint's shape: no product-level fields
        for k in ("slug", "featured", "catalog_visibility", "short_description", "categories", "variations"):
            out.pop(k)
        imgs = out.pop("images")
        out["image"] = imgs[0] if imgs else None
    return out


def order_json(row: dict[str, Any] | sqlite3.Row) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "parent_id": 0,
        "number": r["number"] or str(r["id"]),
        "order_key": f"wc_order_{r['id']:08d}",
        "created_via": "checkout",
        "status": r["status"],
        "currency": r["currency"],
        "date_created": r["date_created"],
        "date_created_gmt": r["date_created"],
        "date_modified": r["date_modified"],
        "date_modified_gmt": r["date_modified"],
        "total": r["total"],
        "customer_id": 0,
        "customer_note": r["customer_note"],
        "billing": {},
        "shipping": {},
        "payment_method": "bacs",
        "line_items": json.loads(r["line_items"]),
        "meta_data": _meta(r["meta_data"]),
    }


def children_of(conn: sqlite3.Connection, parent_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {p: [] for p in parent_ids}
    if parent_ids:
        marks = ",".join("?" * len(parent_ids))
        for row in conn.execute(
            f"SELECT parent_id, id FROM wc_product WHERE parent_id IN ({marks}) AND status != 'trash' ORDER BY id",
            parent_ids,
        ):
            out[row[0]].append(row[1])
    return out
