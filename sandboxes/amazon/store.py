"""Persistent sandbox state (SQLite): listings, catalog identifiers, feeds, documents, orders.

Price, quantity and title are columns (the feed path updates 25,000 of them at once); the other listing attributes
are kept as JSON and merged back when an item is rendered.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandboxes.amazon.attributes import ZERO_DECIMAL_CURRENCIES
from sandboxes.common.store import SandboxStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS az_listing (
    sku TEXT PRIMARY KEY,
    asin TEXT NOT NULL,
    title TEXT NOT NULL,
    product_type TEXT NOT NULL DEFAULT 'PRODUCT',
    condition_type TEXT NOT NULL DEFAULT 'new_new',
    price TEXT,
    currency TEXT NOT NULL DEFAULT 'USD',
    quantity INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}',
    identifiers TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS az_catalog (
    asin TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    brand TEXT,
    product_type TEXT NOT NULL DEFAULT 'PRODUCT',
    color TEXT,
    model_number TEXT
);
CREATE TABLE IF NOT EXISTS az_identifier (
    id_type TEXT NOT NULL,
    value TEXT NOT NULL,
    asin TEXT NOT NULL,
    PRIMARY KEY (id_type, value)
);
CREATE TABLE IF NOT EXISTS az_feed (
    feed_id INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_type TEXT NOT NULL,
    marketplace_ids TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    input_doc TEXT NOT NULL,
    result_doc TEXT,
    idempotency_key TEXT,
    request_id INTEGER
);
CREATE INDEX IF NOT EXISTS ix_az_feed_status ON az_feed(status, feed_id);
CREATE TABLE IF NOT EXISTS az_document (
    doc_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content BLOB,
    compression TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS az_order (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    purchase_date REAL NOT NULL,
    last_update REAL NOT NULL,
    currency TEXT NOT NULL,
    total TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_az_order_update ON az_order(last_update, order_id);
CREATE TABLE IF NOT EXISTS az_order_item (
    order_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    asin TEXT NOT NULL,
    title TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price TEXT NOT NULL,
    PRIMARY KEY (order_id, item_id)
);
"""

LISTING_COLUMNS = (
    "sku, asin, title, product_type, condition_type, price, currency, quantity, attributes, identifiers, "
    "deleted, created_at, updated_at"
)
IDENTIFIER_TYPES = ("upc", "ean", "isbn", "gtin", "jan", "asin")
FIRST_FEED_ID = 50_001_000_000  # realistic-looking numeric feed ids


def asin_for(sku: str, identifiers: dict[str, str]) -> str:
    if identifiers.get("asin"):
        return identifiers["asin"]
    return "B0" + hashlib.sha1(sku.encode()).hexdigest()[:8].upper()  # noqa: S324 - an id, not security


def price_text(value: Any, currency: str = "USD") -> str | None:
    """An amount as SP-API's Decimal strings show it: the currency's minor units, "10.00" for ten dollars."""
    if value is None:
        return None
    places = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return format(Decimal(str(value)).quantize(places, ROUND_HALF_UP), "f")


def upsert_listings(store: SandboxStore, listings: Sequence[dict[str, Any]], *, replace: bool = False) -> int:
    """Bulk create or overwrite listings (POST /_sandbox/seed): one executemany per table."""
    now = time.time()
    rows, ids = [], []
    for item in listings:
        identifiers = {k.lower(): str(v) for k, v in (item.get("identifiers") or {}).items()}
        asin = asin_for(item["sku"], identifiers)
        rows.append(
            (
                item["sku"],
                asin,
                item.get("title") or item["sku"],
                item.get("product_type") or "PRODUCT",
                price_text(item.get("price"), item.get("currency") or "USD"),
                item.get("currency") or "USD",
                int(item.get("quantity") or 0),
                json.dumps(identifiers),
                now,
                now,
            )
        )
        ids += [(t, v, asin) for t, v in identifiers.items() if t in IDENTIFIER_TYPES]
        ids.append(("asin", asin, asin))
    with store.tx() as c:
        if replace:
            c.execute("DELETE FROM az_listing")
            c.execute("DELETE FROM az_identifier")
        c.executemany(
            "INSERT INTO az_listing(sku, asin, title, product_type, price, currency, quantity, identifiers, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(sku) DO UPDATE SET "
            "asin=excluded.asin, title=excluded.title, price=excluded.price, quantity=excluded.quantity, "
            "identifiers=excluded.identifiers, deleted=0, updated_at=excluded.updated_at",
            rows,
        )
        c.executemany("INSERT OR REPLACE INTO az_identifier(id_type, value, asin) VALUES (?,?,?)", ids)
    return len(rows)


def seed_demo(store: SandboxStore) -> None:
    """The demo catalog, once: existing listings are never overwritten (restarts keep their state)."""
    from merchflow.seed import DEMO_PRODUCTS

    have = {r["sku"] for r in store.query("SELECT sku FROM az_listing")}
    fresh = [
        {"sku": sku, "title": name, "price": price, "quantity": qty, "identifiers": ids}
        for sku, name, _brand, _category, _cost, price, qty, ids in DEMO_PRODUCTS
        if sku not in have
    ]
    if fresh:
        upsert_listings(store, fresh)


def get_listing(store: SandboxStore, sku: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
    row = store.one(f"SELECT {LISTING_COLUMNS} FROM az_listing WHERE sku = ?", (sku,))
    if row is None or (row["deleted"] and not include_deleted):
        return None
    return dict(row)


def get_listings(store: SandboxStore, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Live (not deleted) listings by SKU, fetched in chunks below SQLite's parameter limit."""
    out: dict[str, dict[str, Any]] = {}
    skus = list(skus)
    for i in range(0, len(skus), 900):
        part = skus[i : i + 900]
        marks = ",".join("?" * len(part))
        for row in store.query(
            f"SELECT {LISTING_COLUMNS} FROM az_listing WHERE deleted = 0 AND sku IN ({marks})", part
        ):
            out[row["sku"]] = dict(row)
    return out


def asin_for_identifier(store: SandboxStore, id_type: str, value: str) -> str | None:
    row = store.one(
        "SELECT asin FROM az_identifier WHERE id_type = ? AND value = ?", (id_type.lower(), value)
    )
    return row["asin"] if row else None


def identifiers_of(store: SandboxStore, asin: str) -> list[tuple[str, str]]:
    return [
        (r["id_type"], r["value"])
        for r in store.query("SELECT id_type, value FROM az_identifier WHERE asin = ?", (asin,))
    ]
