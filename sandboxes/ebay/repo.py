"""Rows of the eBay sandbox <-> eBay JSON (InventoryItemWithSkuLocaleGroupid, EbayOfferDetailsWithAll)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sandboxes.common.store import SandboxStore

OFFER_BASE = 5_000_000_000
LISTING_BASE = 110_000_000_000


def offer_id_for(seq: int) -> str:
    return str(OFFER_BASE + seq)


def listing_id_for(seq: int, generation: int = 0) -> str:
    # a relist after a withdraw is a new eBay listing: new id
    return str(LISTING_BASE + seq + generation * 10_000_000)


def items_by_sku(db: SandboxStore, skus: Sequence[str]) -> dict[str, sqlite3.Row]:
    out: dict[str, sqlite3.Row] = {}
    for i in range(0, len(skus), 500):
        part = list(skus[i : i + 500])
        marks = ",".join("?" * len(part))
        for row in db.query(f"SELECT * FROM ebay_item WHERE sku IN ({marks})", part):
            out[row["sku"]] = row
    return out


def item_json(row: sqlite3.Row) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": row["sku"]}
    if row["locale"]:
        item["locale"] = row["locale"]
    if row["condition"]:
        item["condition"] = row["condition"]
    product = json.loads(row["product"] or "{}")
    if product:
        item["product"] = product
    if row["quantity"] is not None:
        item["availability"] = {"shipToLocationAvailability": {"quantity": row["quantity"]}}
    return item


def offers_for_sku(db: SandboxStore, sku: str) -> list[sqlite3.Row]:
    return db.query("SELECT * FROM ebay_offer WHERE sku = ? ORDER BY seq", (sku,))


def offers_by_id(db: SandboxStore, ids: Iterable[str]) -> dict[str, sqlite3.Row]:
    ids = list(ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["offer_id"]: r for r in db.query(f"SELECT * FROM ebay_offer WHERE offer_id IN ({marks})", ids)}


def offer_json(row: sqlite3.Row) -> dict[str, Any]:
    details = json.loads(row["details"] or "{}")
    offer: dict[str, Any] = {
        **details,
        "offerId": row["offer_id"],
        "sku": row["sku"],
        "marketplaceId": row["marketplace_id"],
        "format": row["format"],
        "status": row["status"],
    }
    if row["price"] is not None:
        offer["pricingSummary"] = {
            **details.get("pricingSummary", {}),
            "price": {"value": row["price"], "currency": row["currency"] or "USD"},
        }
    if row["available_quantity"] is not None:
        offer["availableQuantity"] = row["available_quantity"]
    if row["status"] == "PUBLISHED":
        offer["listing"] = {
            "listingId": row["listing_id"],
            "listingStatus": "ACTIVE",
            "soldQuantity": row["sold_quantity"],
        }
    return offer


def product_for(title: str, identifiers: dict[str, str]) -> dict[str, Any]:
    product: dict[str, Any] = {"title": title}
    for kind, value in identifiers.items():
        kind = kind.lower()
        if kind in ("upc", "ean", "isbn"):
            product.setdefault(kind, []).append(str(value))
        elif kind == "gtin":
            product.setdefault("ean" if len(str(value)) == 13 else "upc", []).append(str(value))
        elif kind == "mpn":
            product["mpn"] = str(value)
        else:
            product.setdefault("aspects", {})[kind.upper()] = [str(value)]
    return product


def upsert_listings(db: SandboxStore, listings: Sequence[dict[str, Any]], *, overwrite: bool) -> int:
    """Items plus one published FIXED_PRICE offer each, in two executemany statements (100k in seconds)."""
    now = time.time()
    conflict = (
        "DO UPDATE SET product = excluded.product, quantity = excluded.quantity, updated_at = excluded.updated_at"
        if overwrite
        else "DO NOTHING"
    )
    items = [
        (
            str(entry["sku"]),
            json.dumps(product_for(str(entry.get("title") or entry["sku"]), entry.get("identifiers") or {})),
            int(entry.get("quantity") or 0),
            now,
        )
        for entry in listings
    ]
    with db.tx() as c:
        c.executemany(
            "INSERT INTO ebay_item(sku, locale, condition, product, quantity, updated_at) "
            f"VALUES (?, 'en_US', 'NEW', ?, ?, ?) ON CONFLICT(sku) {conflict}",
            items,
        )
        have = {r[0] for r in c.execute("SELECT DISTINCT sku FROM ebay_offer").fetchall()}
        seq = int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM ebay_offer").fetchone()[0])
        new_offers, price_updates = [], []
        for entry in listings:
            sku = str(entry["sku"])
            price = str(Decimal(str(entry.get("price") or "9.99")).quantize(Decimal("0.01")))
            if sku in have:
                if overwrite:
                    price_updates.append((price, now, sku))
                continue
            seq += 1
            have.add(sku)
            new_offers.append(
                (
                    seq,
                    offer_id_for(seq),
                    sku,
                    listing_id_for(seq),
                    price,
                    json.dumps({"categoryId": "9355"}),
                    now,
                )
            )
        c.executemany(
            "INSERT INTO ebay_offer(seq, offer_id, sku, marketplace_id, format, status, listing_id, price, currency, "
            "details, updated_at) VALUES (?, ?, ?, 'EBAY_US', 'FIXED_PRICE', 'PUBLISHED', ?, ?, 'USD', ?, ?)",
            new_offers,
        )
        c.executemany("UPDATE ebay_offer SET price = ?, updated_at = ? WHERE sku = ?", price_updates)
    return len(items)


def listing_truth(db: SandboxStore, sku: str | None, limit: int) -> list[dict[str, Any]]:
    sql = (
        "SELECT i.sku, i.product, i.quantity, o.offer_id, o.status, o.listing_id, o.price, o.currency, "
        "o.sold_quantity FROM ebay_item i LEFT JOIN ebay_offer o ON o.sku = i.sku"
    )
    params: list[Any] = []
    if sku is not None:
        sql += " WHERE i.sku = ?"
        params.append(sku)
    rows = db.query(sql + " ORDER BY i.sku LIMIT ?", [*params, limit])
    return [
        {
            "sku": r["sku"],
            "title": json.loads(r["product"] or "{}").get("title"),
            "quantity": r["quantity"],
            "price": r["price"],
            "currency": r["currency"],
            "status": {"PUBLISHED": "active", "UNPUBLISHED": "inactive"}.get(r["status"], "no_offer"),
            "offer_id": r["offer_id"],
            "listing_id": r["listing_id"] if r["status"] == "PUBLISHED" else None,
            "sold_quantity": r["sold_quantity"] or 0,
        }
        for r in rows
    ]
