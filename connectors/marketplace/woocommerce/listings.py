"""Listing sync: GET /products paged by page / per_page (ordered by id), plus each variable product's variations."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.marketplace.types import ListingSnapshot, ListingsPage
from connectors.marketplace.woocommerce import mapping as m
from connectors.marketplace.woocommerce.client import WooClient
from connectors.marketplace.woocommerce.skus import Ref, SkuIndex

PER_PAGE_MAX = 100
# WP REST's `_fields`: a real product object carries descriptions, images, categories... (often 5-10 KB); a listing
# sync needs a dozen fields. Saves most of the transfer and JSON work on both sides.
LISTING_FIELDS = (
    "id,sku,type,status,parent_id,price,regular_price,sale_price,manage_stock,stock_quantity,stock_status,"
    "date_modified_gmt"
)


async def list_listings(
    client: WooClient, skus: SkuIndex, cursor: str | None, *, page_size: int, currency: str, concurrency: int
) -> ListingsPage:
    page_no, since, cursor_per_page = m.parse_listings_cursor(cursor)
    page_size = cursor_per_page or page_size
    params: dict[str, Any] = {
        "page": page_no,
        "per_page": page_size,
        "orderby": "id",
        "order": "asc",
        "_fields": LISTING_FIELDS,
    }
    if since:
        params |= {"modified_after": since, "dates_are_gmt": "true"}
    page = await client.get_page("/products", operation="products.list", params=params)
    sem = asyncio.Semaphore(concurrency)

    async def variations(pid: int) -> list[dict[str, Any]]:
        async with sem:
            return await all_variations(client, pid)

    variable = [p["id"] for p in page.items if p.get("type") == "variable"]
    children = dict(zip(variable, await asyncio.gather(*(variations(p) for p in variable)), strict=True))
    items: list[ListingSnapshot] = []
    for p in page.items:
        kind = p.get("type")
        objs = [(v, p["id"]) for v in children[p["id"]]] if kind == "variable" else [(p, None)]
        for obj, parent in objs:
            if kind == "grouped" or not obj.get("sku"):  # grouped products sell their children
                continue
            snap = m.snapshot(obj, currency=currency, parent_id=parent)
            skus.remember(snap.sku, Ref(int(parent or obj["id"]), int(obj["id"]) if parent else None))
            items.append(snap)
    more = page_no < page.total_pages
    return ListingsPage(
        items=items, next_cursor=m.listings_cursor(page_no + 1, since, page_size) if more else None
    )


async def all_variations(client: WooClient, product_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page_no = 1
    while True:
        page = await client.get_page(
            f"/products/{product_id}/variations",
            operation="variations.list",
            params={
                "page": page_no,
                "per_page": PER_PAGE_MAX,
                "orderby": "id",
                "order": "asc",
                "_fields": LISTING_FIELDS,
            },
        )
        out += page.items
        if page_no >= page.total_pages:
            return out
        page_no += 1
