"""Listing sync on eBay: inventory items (getInventoryItems, up to 200 per page, following `next`) plus each SKU's
offer (getOffers: eBay has no multi-SKU offer read), with the product's identifiers (upc / ean / isbn arrays, mpn,
brand) and the variation group a SKU belongs to."""

from __future__ import annotations

from typing import Any

from connectors.marketplace.ebay import mapping
from connectors.marketplace.types import ListingSnapshot, ListingsPage

MAX_PAGE = 200  # getInventoryItems' largest `limit`


def catalog_snapshot(item: dict[str, Any], offer: dict[str, Any] | None) -> ListingSnapshot:
    snap = mapping.snapshot(item, offer)
    product = item.get("product") or {}
    ids: dict[str, str] = {}
    for kind in ("upc", "ean", "isbn"):
        values = product.get(kind) or []
        if values:
            ids[kind] = str(values[0])
    if product.get("mpn"):
        ids["mpn"] = str(product["mpn"])
    brand = product.get("brand") or next(iter((product.get("aspects") or {}).get("Brand") or []), None)
    groups = item.get("inventoryItemGroupKeys") or []
    return snap.model_copy(
        update={
            "title": product.get("title"),
            "brand": brand,
            "identifiers": ids,
            "parent_sku": str(groups[0]) if groups else None,
        }
    )


async def list_catalog(adapter: Any, cursor: str | None, page_size: int | None) -> ListingsPage:
    params = mapping.cursor_params(cursor, min(page_size or MAX_PAGE, MAX_PAGE), MAX_PAGE)
    body = await adapter.client.get_inventory_items(params)
    items = body.get("inventoryItems") or []
    offers = await adapter._first_offers([str(i.get("sku")) for i in items]) if items else {}
    return ListingsPage(
        items=[catalog_snapshot(i, offers.get(str(i.get("sku")))) for i in items],
        next_cursor=mapping.page_cursor(body.get("next")) if items else None,
    )
