"""Listing rows as Amazon shows them (Listings Items `Item`) and written back with their effects recorded."""

from __future__ import annotations

import json
import time
from typing import Any

from sandboxes.amazon.attributes import ListingValues, dump_attrs, render_attributes
from sandboxes.amazon.common import AmazonSandbox, iso
from sandboxes.amazon.store import asin_for, price_text


def buyable(row: dict[str, Any]) -> bool:
    """A shopper can buy a listing with a price and stock (search.STATUS_SQL says the same in SQL)."""
    return row["price"] is not None and row["quantity"] > 0


def render_item(row: dict[str, Any], included: list[str] | set[str], marketplace_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": row["sku"]}
    if "summaries" in included:
        item["summaries"] = [
            {
                "marketplaceId": marketplace_id,
                "asin": row["asin"],
                "productType": row["product_type"],
                "conditionType": row["condition_type"],
                "status": ["BUYABLE", "DISCOVERABLE"] if buyable(row) else ["DISCOVERABLE"],
                "itemName": row["title"],
                "createdDate": iso(row["created_at"]),
                "lastUpdatedDate": iso(row["updated_at"]),
            }
        ]
    if "attributes" in included:
        item["attributes"] = render_attributes(row, marketplace_id)
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        item["offers"] = (
            [
                {
                    "marketplaceId": marketplace_id,
                    "offerType": "B2C",
                    "price": {"currencyCode": row["currency"], "amount": row["price"]},
                }
            ]
            if row["price"] is not None
            else []
        )
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [{"fulfillmentChannelCode": "DEFAULT", "quantity": row["quantity"]}]
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": marketplace_id, "productType": row["product_type"]}]
    return item


def write_listing(
    sbx: AmazonSandbox, sku: str, before: dict[str, Any] | None, new: ListingValues, product_type: str
) -> None:
    """Persist a listing's new values and record each real change as an effect."""
    now = time.time()
    price = price_text(new.price, new.currency or sbx.currency)
    store = sbx.state.store
    if before is None:
        identifiers = {}
        for ident in new.attrs.get("externally_assigned_product_identifier") or []:
            if isinstance(ident, dict) and ident.get("type") and ident.get("value"):
                identifiers[str(ident["type"]).lower()] = str(ident["value"])
        for sugg in new.attrs.get("merchant_suggested_asin") or []:
            if isinstance(sugg, dict) and sugg.get("value"):
                identifiers["asin"] = str(sugg["value"])
        asin = asin_for(sku, identifiers)
        with store.tx() as c:
            c.execute(
                "INSERT INTO az_listing(sku, asin, title, product_type, price, currency, quantity, attributes, "
                "identifiers, deleted, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,0,?,?) "
                "ON CONFLICT(sku) DO UPDATE SET asin=excluded.asin, title=excluded.title, "
                "product_type=excluded.product_type, price=excluded.price, currency=excluded.currency, "
                "quantity=excluded.quantity, attributes=excluded.attributes, identifiers=excluded.identifiers, "
                "deleted=0, created_at=excluded.created_at, updated_at=excluded.updated_at",
                (
                    sku,
                    asin,
                    new.title or sku,
                    product_type,
                    price,
                    new.currency or sbx.currency,
                    new.quantity or 0,
                    dump_attrs(new.attrs),
                    json.dumps(identifiers),
                    now,
                    now,
                ),
            )
            c.executemany(
                "INSERT OR REPLACE INTO az_identifier(id_type, value, asin) VALUES (?,?,?)",
                [(t, v, asin) for t, v in identifiers.items()] + [("asin", asin, asin)],
            )
    else:
        store.execute(
            "UPDATE az_listing SET title=?, price=?, currency=?, quantity=?, attributes=?, product_type=?, "
            "updated_at=? WHERE sku=?",
            (
                new.title or before["title"],
                price,
                new.currency or before["currency"],
                new.quantity or 0,
                dump_attrs(new.attrs),
                product_type,
                now,
                sku,
            ),
        )
    old = ListingValues.of(before)
    entity = f"listing:{sku}"
    sbx.state.record_effects(
        [
            (entity, "status", "ACTIVE" if before else None, "ACTIVE"),
            (entity, "title", old.title, new.title or (before or {}).get("title")),
            (entity, "price", old.price, new.price),
            (entity, "quantity", old.quantity, new.quantity or 0),
        ]
    )
