"""The demo shop's persistent state (SQLite via SandboxStore) and the few queries the resolvers need.

Ids look like Shopify's (large integers, exposed as `gid://shopify/<Type>/<id>`). One shop, one location.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sandboxes.common.store import SandboxStore

SHOP_DOMAIN = "merchflow-demo.myshopify.com"
SHOP_NAME = "merchflow demo shop"
SHOP_CURRENCY = "USD"
LOCATION_ID = 71234567890  # the demo shop's only location, fixed so accounts can configure it
LOCATION_GID = f"gid://shopify/Location/{LOCATION_ID}"
LOCATION_NAME = "Demo warehouse"

# first ids of each kind (then +1): realistic magnitudes, disjoint ranges so a wrong gid type never matches
ID_BASE = {
    "shp_product": 7_100_000_000_000,
    "shp_variant": 42_100_000_000_000,
    "shp_order": 5_600_000_000_000,
    "shp_line": 13_800_000_000_000,
}
INVENTORY_ITEM_OFFSET = (
    2_000_000_000_000  # inventory item id = variant id + offset (distinct ids, no extra table)
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS shp_product (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, handle TEXT NOT NULL UNIQUE, description_html TEXT NOT NULL,
    vendor TEXT NOT NULL, product_type TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shp_variant (
    id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, sku TEXT, barcode TEXT, price TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT 'Default Title', inventory_policy TEXT NOT NULL DEFAULT 'DENY',
    tracked INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_shp_variant_sku ON shp_variant(sku);
CREATE INDEX IF NOT EXISTS ix_shp_variant_product ON shp_variant(product_id);
CREATE TABLE IF NOT EXISTS shp_level (
    inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL, available INTEGER NOT NULL,
    on_hand INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (inventory_item_id, location_id)
);
CREATE TABLE IF NOT EXISTS shp_order (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, source_identifier TEXT UNIQUE, currency TEXT NOT NULL,
    financial_status TEXT NOT NULL, fulfillment_status TEXT NOT NULL, cancel_reason TEXT, total TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, cancelled_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_shp_order_updated ON shp_order(updated_at, id);
CREATE TABLE IF NOT EXISTS shp_line (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, variant_id INTEGER, sku TEXT, title TEXT NOT NULL,
    quantity INTEGER NOT NULL, current_quantity INTEGER NOT NULL, price TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_shp_line_order ON shp_line(order_id);
CREATE TABLE IF NOT EXISTS shp_token (token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shp_idempotency (
    key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, response BLOB NOT NULL
);
"""

VARIANT_COLUMNS = (
    "v.id, v.product_id, v.sku, v.barcode, v.price, v.title, v.inventory_policy, v.tracked, v.created_at, "
    "v.updated_at, p.title AS product_title, p.handle, p.status, p.vendor, p.product_type, "
    "p.description_html, p.tags, p.created_at AS product_created_at, p.updated_at AS product_updated_at"
)


def now_iso() -> str:
    """Shopify answers DateTime with second precision in UTC."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def gid(kind: str, ident: int) -> str:
    return f"gid://shopify/{kind}/{ident}"


_GID = re.compile(r"^gid://shopify/(\w+)/(\d+)")


def parse_gid(value: str | None, kind: str) -> int | None:
    m = _GID.match(value or "")
    return int(m.group(2)) if m and m.group(1) == kind else None


def item_id(variant_id: int) -> int:
    return variant_id + INVENTORY_ITEM_OFFSET


def variant_id_of_item(inventory_item_id: int) -> int:
    return inventory_item_id - INVENTORY_ITEM_OFFSET


def encode_cursor(last_id: int, last_value: Any = None) -> str:
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.b64decode(cursor.encode()))
        return value if isinstance(value, dict) and "last_id" in value else None
    except (ValueError, TypeError):
        return None


def next_ids(conn: sqlite3.Connection, table: str, n: int) -> list[int]:
    row = conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()
    start = max(row[0] or 0, ID_BASE[table] - 1) + 1
    return list(range(start, start + n))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


# ---- catalog -----------------------------------------------------------------------------------------------------
def seed_listings(
    store: SandboxStore, listings: Sequence[dict[str, Any]], *, replace: bool
) -> dict[str, int]:
    """Bulk creation with executemany (100,000 listings in a few seconds). Existing SKUs are left alone."""
    now = now_iso()
    with store.tx() as c:
        if replace:
            for table in ("shp_product", "shp_variant", "shp_level"):
                c.execute(f"DELETE FROM {table}")
        existing = {r[0] for r in c.execute("SELECT sku FROM shp_variant WHERE sku IS NOT NULL")}
        fresh, seen = [], set()
        for item in listings:
            sku = str(item["sku"])
            if sku in existing or sku in seen:
                continue
            seen.add(sku)
            fresh.append(item)
        pids = next_ids(c, "shp_product", len(fresh))
        vids = next_ids(c, "shp_variant", len(fresh))
        handles = {r[0] for r in c.execute("SELECT handle FROM shp_product")} if not replace else set()
        products, variants, levels = [], [], []
        for pid, vid, item in zip(pids, vids, fresh, strict=True):
            title = str(item.get("title") or item["sku"])
            handle = slug(f"{title}-{item['sku']}")
            while handle in handles:
                handle += "-1"
            handles.add(handle)
            ids = item.get("identifiers") or {}
            barcode = next((ids[k] for k in ("upc", "ean", "gtin", "isbn") if ids.get(k)), None)
            products.append(
                (
                    pid,
                    title,
                    handle,
                    "",
                    item.get("vendor", ""),
                    item.get("product_type", ""),
                    "ACTIVE",
                    now,
                    now,
                )
            )
            variants.append((vid, pid, str(item["sku"]), barcode, str(item.get("price", "0.00")), now, now))
            qty = int(item.get("quantity", 0))
            levels.append((item_id(vid), LOCATION_ID, qty, qty, now))
        c.executemany(
            "INSERT INTO shp_product(id, title, handle, description_html, vendor, product_type, status, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            products,
        )
        c.executemany(
            "INSERT INTO shp_variant(id, product_id, sku, barcode, price, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?)",
            variants,
        )
        c.executemany(
            "INSERT INTO shp_level(inventory_item_id, location_id, available, on_hand, updated_at) "
            "VALUES (?,?,?,?,?)",
            levels,
        )
    return {"created": len(fresh), "skipped": len(listings) - len(fresh)}


def seed_demo(store: SandboxStore) -> dict[str, int]:
    from merchflow.seed import DEMO_PRODUCTS

    return seed_listings(
        store,
        [
            {
                "sku": sku,
                "title": name,
                "price": price,
                "quantity": qty,
                "identifiers": ids,
                "vendor": brand,
                "product_type": category,
            }
            for sku, name, brand, category, _cost, price, qty, ids in DEMO_PRODUCTS
        ],
        replace=False,
    )


def variants_where(
    store: SandboxStore, where: str, params: Sequence[Any], *, order: str = "v.id", limit: int | None = None
) -> list[sqlite3.Row]:
    sql = f"SELECT {VARIANT_COLUMNS} FROM shp_variant v JOIN shp_product p ON p.id = v.product_id WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store.query(sql, params)


def levels_for(store: SandboxStore, item_ids: Iterable[int]) -> dict[tuple[int, int], sqlite3.Row]:
    ids = list(item_ids)
    out: dict[tuple[int, int], sqlite3.Row] = {}
    for i in range(0, len(ids), 900):
        part = ids[i : i + 900]
        marks = ",".join("?" * len(part))
        for r in store.query(f"SELECT * FROM shp_level WHERE inventory_item_id IN ({marks})", part):
            out[(r["inventory_item_id"], r["location_id"])] = r
    return out


def listings_truth(store: SandboxStore, sku: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    where, params = ("v.sku = ?", [sku]) if sku else ("1 = 1", [])
    rows = store.query(
        f"SELECT v.id, v.product_id, v.sku, v.price, v.barcode, p.title, p.status, l.available, l.on_hand "
        f"FROM shp_variant v JOIN shp_product p ON p.id = v.product_id "
        f"LEFT JOIN shp_level l ON l.inventory_item_id = v.id + {INVENTORY_ITEM_OFFSET} AND l.location_id = ? "
        f"WHERE {where} ORDER BY v.id LIMIT ? OFFSET ?",
        [LOCATION_ID, *params, limit, offset],
    )
    return [
        {
            "sku": r["sku"],
            "title": r["title"],
            "status": r["status"],
            "price": r["price"],
            "barcode": r["barcode"],
            "quantity": r["available"],
            "on_hand": r["on_hand"],
            "product_id": gid("Product", r["product_id"]),
            "variant_id": gid("ProductVariant", r["id"]),
            "inventory_item_id": gid("InventoryItem", item_id(r["id"])),
        }
        for r in rows
    ]
