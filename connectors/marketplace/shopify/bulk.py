"""Listing sync on Shopify: one bulk operation over every product variant (bulkOperationRunQuery), polled with
currentBulkOperation until COMPLETED, then its JSON-lines result read page by page with HTTP Range requests.

A bulk operation costs one mutation however large the shop, and its result URL stays valid for days, so the cursor
(`<operation gid>|<byte offset>`) survives activities, workers and continue-as-new. One query operation runs per
shop at a time: a sync finds its own running operation again instead of starting a second.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx

from connectors.errors import NonRetryableError, ServerError, TransportError
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.shopify.documents import Document
from connectors.marketplace.types import ListingSnapshot, ListingsPage

# The bulk query: every variant with what linking needs. No `first`: a bulk operation reads the whole connection.
VARIANTS_QUERY = """{
  productVariants {
    edges {
      node {
        id sku barcode title price inventoryQuantity
        product { id title handle vendor status }
        inventoryItem { id }
      }
    }
  }
}"""

RUN = Document(
    "MerchflowBulkVariants",
    """
mutation MerchflowBulkVariants($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
""",
    cost=10,
)
CURRENT = Document(
    "MerchflowBulkCurrent",
    """
query MerchflowBulkCurrent {
  currentBulkOperation { id status errorCode objectCount url query }
}
""",
    cost=1,
)
PAGE_LINES = 1000
POLL_MAX_SECONDS = 5.0
_RUNNING = ("CREATED", "RUNNING")


def _barcode_kind(code: str) -> str:
    digits = code.replace("-", "")
    if len(digits) == 13 and digits[:3] in ("978", "979"):
        return "isbn"
    return {12: "upc", 13: "ean"}.get(len(digits), "gtin")


def snapshot(line: dict[str, Any], currency: str) -> ListingSnapshot:
    product = line.get("product") or {}
    title = product.get("title")
    variant_title = line.get("title")
    single = not variant_title or variant_title == "Default Title"
    if title and not single:
        title = f"{title} - {variant_title}"
    code = str(line.get("barcode") or "").strip()
    status = str(product.get("status") or "")
    return ListingSnapshot(
        sku=str(line.get("sku") or ""),
        external_id=product.get("id"),
        external_variant_id=line.get("id"),
        quantity=line.get("inventoryQuantity"),
        price=Decimal(str(line["price"])) if line.get("price") is not None else None,
        currency=currency,
        status="active" if status == "ACTIVE" else ("ended" if status == "ARCHIVED" else "inactive"),
        extra={"inventory_item_id": (line.get("inventoryItem") or {}).get("id"), "product_status": status},
        title=title,
        brand=product.get("vendor") or None,
        identifiers={_barcode_kind(code): code} if code else {},
        parent_sku=None if single else (product.get("handle") or None),
        options=None if single else {"Variant": str(variant_title)},
    )


async def _operation(adapter: Any, op_id: str | None, on_wait: WaitCallback | None) -> dict[str, Any]:
    """Our operation, once it has finished: start it (or find the running one) when `op_id` is None."""
    current = (await adapter.gql.execute(CURRENT))["currentBulkOperation"]
    if op_id is None:
        if (
            current
            and current["status"] in _RUNNING
            and current.get("query", "").strip() == VARIANTS_QUERY.strip()
        ):
            op_id = current["id"]
        else:
            data = (await adapter.gql.execute(RUN, {"query": VARIANTS_QUERY}, cost=RUN.cost))[
                "bulkOperationRunQuery"
            ]
            if data["userErrors"]:
                raise ServerError(
                    f"bulk operation not started: {data['userErrors'][0]['message']}", marketplace="shopify"
                )
            op_id = data["bulkOperation"]["id"]
            current = None
    wait = 0.2
    while True:
        if current is not None and current.get("id") == op_id and current["status"] not in _RUNNING:
            break
        if current is not None and current.get("id") != op_id:
            # another bulk query replaced ours (its URL is gone with it): the sync must start over
            raise NonRetryableError(
                f"bulk operation {op_id} was replaced by {current.get('id')}", marketplace="shopify"
            )
        if on_wait is not None:
            on_wait(f"shopify bulk operation {op_id} running")
        await asyncio.sleep(wait)
        wait = min(POLL_MAX_SECONDS, wait * 1.5)
        current = (await adapter.gql.execute(CURRENT))["currentBulkOperation"]
    if current["status"] != "COMPLETED":
        raise ServerError(
            f"bulk operation {op_id} ended {current['status']} ({current.get('errorCode')})",
            marketplace="shopify",
        )
    return dict(current)


async def _read_lines(
    url: str, offset: int, limit: int, user_agent: str
) -> tuple[list[dict[str, Any]], int, bool]:
    """Up to `limit` JSON lines from byte `offset`; returns them, the offset after the last one, and EOF."""
    lines: list[dict[str, Any]] = []
    position = offset
    try:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(60.0), headers={"user-agent": user_agent}
        ) as client:
            async with client.stream("GET", url, headers={"range": f"bytes={offset}-"}) as response:
                if response.status_code == 416:
                    return [], offset, True
                if response.status_code not in (200, 206):
                    raise ServerError(
                        f"bulk result download: HTTP {response.status_code}", marketplace="shopify"
                    )
                skip = offset if response.status_code == 200 else 0  # a server that ignored the Range header
                buffer = b""
                async for chunk in response.aiter_bytes():
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                    buffer += chunk
                    while b"\n" in buffer and len(lines) < limit:
                        raw, buffer = buffer.split(b"\n", 1)
                        position += len(raw) + 1
                        if raw.strip():
                            lines.append(json.loads(raw))
                    if len(lines) >= limit:
                        return lines, position, False
                if buffer.strip() and len(lines) < limit:
                    position += len(buffer)
                    lines.append(json.loads(buffer))
    except httpx.HTTPError as exc:
        raise TransportError(f"bulk result download: {exc}", marketplace="shopify") from exc
    return lines, position, True


async def list_catalog(
    adapter: Any, cursor: str | None, page_size: int | None, on_wait: WaitCallback | None = None
) -> ListingsPage:
    op_id, _, offset_text = (cursor or "").partition("|")
    op = await _operation(adapter, op_id or None, on_wait)
    if not op.get("url") or int(op.get("objectCount") or 0) == 0:
        return ListingsPage(items=[], next_cursor=None)
    _, currency = await adapter._shop()
    lines, position, eof = await _read_lines(
        str(op["url"]), int(offset_text or 0), page_size or PAGE_LINES, adapter.cfg.user_agent
    )
    items = [snapshot(line, currency) for line in lines if line.get("sku") and "__parentId" not in line]
    return ListingsPage(items=items, next_cursor=None if eof else f"{op['id']}|{position}")
