"""Listing sync on WooCommerce: products page by page (ordered by id) and each variable product's variations, with
the name, the GTIN / UPC / EAN / ISBN field (`global_unique_id`, WooCommerce 9.2+) and a variation's options."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.marketplace.types import ListingSnapshot, ListingsPage
from connectors.marketplace.woocommerce import mapping as m
from connectors.marketplace.woocommerce.listings import LISTING_FIELDS, PER_PAGE_MAX
from connectors.marketplace.woocommerce.skus import Ref

CATALOG_FIELDS = LISTING_FIELDS + ",name,global_unique_id,attributes,brands"


def _identifiers(obj: dict[str, Any]) -> dict[str, str]:
    code = str(obj.get("global_unique_id") or "").strip()
    if not code:
        return {}
    digits = code.replace("-", "")
    kind = (
        "isbn"
        if digits[:3] in ("978", "979") and len(digits) == 13
        else ("upc" if len(digits) == 12 else "gtin")
    )
    return {kind: code}


def _options(obj: dict[str, Any]) -> dict[str, str] | None:
    found = {
        str(a.get("name")): str(a.get("option"))
        for a in obj.get("attributes") or []
        if a.get("option") is not None
    }
    return found or None


def catalog_snapshot(obj: dict[str, Any], *, currency: str, parent: dict[str, Any] | None) -> ListingSnapshot:
    snap = m.snapshot(obj, currency=currency, parent_id=parent["id"] if parent else None)
    brands = (parent or obj).get("brands") or []
    return snap.model_copy(
        update={
            "title": obj.get("name") or (parent or {}).get("name"),
            "brand": str(brands[0].get("name")) if brands and isinstance(brands[0], dict) else None,
            "identifiers": _identifiers(obj) or (_identifiers(parent) if parent else {}),
            "parent_sku": (parent or {}).get("sku") or None,
            "options": _options(obj) if parent else None,
        }
    )


async def _variations(client: Any, product_id: int) -> list[dict[str, Any]]:
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
                "_fields": CATALOG_FIELDS,
            },
        )
        out += page.items
        if page_no >= page.total_pages:
            return out
        page_no += 1


async def list_catalog(adapter: Any, cursor: str | None, page_size: int | None) -> ListingsPage:
    page_no, _, cursor_per_page = m.parse_listings_cursor(cursor)
    per_page = cursor_per_page or min(PER_PAGE_MAX, page_size or PER_PAGE_MAX)
    params = {
        "page": page_no,
        "per_page": per_page,
        "orderby": "id",
        "order": "asc",
        "_fields": CATALOG_FIELDS,
    }
    page = await adapter.client.get_page("/products", operation="products.list", params=params)
    sem = asyncio.Semaphore(adapter.opts.concurrency)

    async def variations(pid: int) -> list[dict[str, Any]]:
        async with sem:
            return await _variations(adapter.client, pid)

    variable = [p for p in page.items if p.get("type") == "variable"]
    children = dict(
        zip(
            [p["id"] for p in variable],
            await asyncio.gather(*(variations(p["id"]) for p in variable)),
            strict=True,
        )
    )
    items: list[ListingSnapshot] = []
    for p in page.items:
        kind = p.get("type")
        if kind == "grouped":  # grouped products sell their children, which are products of their own
            continue
        pairs = [(v, p) for v in children[p["id"]]] if kind == "variable" else [(p, None)]
        for obj, parent in pairs:
            if not obj.get("sku"):
                continue
            snap = catalog_snapshot(obj, currency=adapter.opts.currency, parent=parent)
            adapter.skus.remember(
                snap.sku, Ref(int(parent["id"] if parent else obj["id"]), int(obj["id"]) if parent else None)
            )
            items.append(snap)
    more = page_no < page.total_pages
    return ListingsPage(
        items=items, next_cursor=m.listings_cursor(page_no + 1, None, per_page) if more else None
    )
