"""Incremental order polling with GET /orders?modified_after=..., so that no order is skipped or repeated.

Woo's dates have one-second precision and `modified_after` is exclusive, so many orders can share the watermark's
second. The cursor is therefore (date_modified_gmt, id): we ask from one second before the watermark and drop what
is not strictly after (modified, id). When a call stops early, orders in the last second seen are held back for
the next call, since more orders of that same second may sit on later pages.

And a second is only final once it is over: an order changed later within the watermark's own second but with a
lower id would sort before the cursor and be skipped for ever. So orders changed in the site's current second (by
its Date header), or within `settle_seconds` before it (saves that commit late), wait for a later poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.marketplace.types import OrdersPage
from connectors.marketplace.woocommerce.client import WooClient
from connectors.marketplace.woocommerce.mapping import (
    fmt_gmt,
    orders_cursor,
    parse_orders_cursor,
    to_order,
)


def _key(o: dict[str, Any]) -> tuple[str, int]:
    return str(o.get("date_modified_gmt") or ""), int(o["id"])


async def list_orders(
    client: WooClient, cursor: str | None, *, account: str, limit: int, settle_seconds: int = 2
) -> OrdersPage:
    watermark = parse_orders_cursor(cursor)
    params: dict[str, Any] = {
        "orderby": "modified",
        "order": "asc",
        "per_page": limit,
        "dates_are_gmt": "true",
    }
    if watermark is not None:
        start = datetime.fromisoformat(watermark[0]).replace(tzinfo=UTC)
        params["modified_after"] = fmt_gmt(start - timedelta(seconds=1))
    floor = watermark or ("", -1)
    cutoff: str | None = None  # orders changed at or after this second are not final yet
    collected: list[dict[str, Any]] = []
    page_no, more = 1, False
    while True:
        page = await client.get_page("/orders", operation="orders.list", params={**params, "page": page_no})
        if cutoff is None:
            cutoff = fmt_gmt((page.server_time or datetime.now(UTC)) - timedelta(seconds=settle_seconds))
        collected += [o for o in page.items if floor < _key(o) and _key(o)[0] < cutoff]
        # ascending order: once a page reaches unsettled orders, every later page holds only unsettled ones
        more = page_no < page.total_pages and all(_key(o)[0] < cutoff for o in page.items)
        if not more:
            break
        if len(collected) >= limit and page.items:
            last_second = max(_key(o)[0] for o in page.items)
            held = [o for o in collected if _key(o)[0] < last_second]
            if held:
                collected = held
                break
        page_no += 1
    collected.sort(key=_key)
    orders = [to_order(o, account=account) for o in collected]
    next_cursor = orders_cursor(*_key(collected[-1])) if collected else cursor
    return OrdersPage(orders=orders, next_cursor=next_cursor, has_more=more)
