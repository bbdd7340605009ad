"""Incremental order polling with GET /orders?modified_after=..., so that no order is skipped or repeated.

Woo's dates have one-second precision and `modified_after` is exclusive, so many orders can share the watermark's
second. The cursor is therefore (date_modified_gmt, id): we ask from one second before the watermark and drop what
is not strictly after (modified, id). When a call stops early, orders in the last second seen are held back for
the next call, since more orders of that same second may sit on later pages. Within a call, each request starts
again from the last second read (keyset), never from the next page number: an order modified while we page moves to
the end of the list and would shift an unread order into a page already read. Only a second holding more than a page
of orders is paged by number, within that second.

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


def _params(base: str | None, mode: str, page_no: int, limit: int) -> dict[str, Any]:
    """mode "from": orders of second `base` and later; "within": second `base` only; "past": later than `base`."""
    params: dict[str, Any] = {
        "orderby": "modified", "order": "asc", "per_page": limit, "dates_are_gmt": "true", "page": page_no,
    }  # fmt: skip
    if base is not None:
        start = datetime.fromisoformat(base).replace(tzinfo=UTC)
        params["modified_after"] = fmt_gmt(start if mode == "past" else start - timedelta(seconds=1))
        if mode == "within":
            params["modified_before"] = fmt_gmt(start + timedelta(seconds=1))
    return params


async def list_orders(
    client: WooClient, cursor: str | None, *, account: str, limit: int, settle_seconds: int = 2
) -> OrdersPage:
    watermark = parse_orders_cursor(cursor)
    floor = watermark or ("", -1)
    base, mode = (watermark[0] if watermark else None), "from"
    cutoff: str | None = None  # orders changed at or after this second are not final yet
    collected: dict[int, dict[str, Any]] = {}
    page_no, group_total, more = 1, None, False
    while True:
        page = await client.get_page(
            "/orders", operation="orders.list", params=_params(base, mode, page_no, limit)
        )
        if mode == "within" and group_total is not None and page.total != group_total:
            # an order of this second was modified meanwhile: it left the second and the others moved up
            group_total, page_no = page.total, 1
            continue
        group_total = page.total if mode == "within" else None
        if cutoff is None:
            cutoff = fmt_gmt((page.server_time or datetime.now(UTC)) - timedelta(seconds=settle_seconds))
        collected |= {int(o["id"]): o for o in page.items if floor < _key(o) and _key(o)[0] < cutoff}
        # ascending order: once a page reaches unsettled orders, every later page holds only unsettled ones
        settled = all(_key(o)[0] < cutoff for o in page.items)
        if mode == "within":
            if not settled:
                break
            if page_no < page.total_pages:
                page_no += 1
                continue
            if len(collected) >= limit:
                more = True
                break
            mode, page_no = "past", 1  # the crowded second is read whole: on to the later ones
            continue
        more = page_no < page.total_pages and settled
        if not more:
            break
        last_second = max(_key(o)[0] for o in page.items)
        if len(collected) >= limit:
            held = {i: o for i, o in collected.items() if _key(o)[0] < last_second}
            if held:
                collected = held
                break
        if base is None or last_second > base:
            # Keyset, not page numbers: the next request starts at the last second seen. An order modified meanwhile
            # moves to the end of the list, and with page numbers the orders after it would move up into a page
            # already read and be skipped. Orders of `last_second` already collected come again (deduped by id).
            base, mode, page_no = last_second, "from", 1
        else:
            mode, page_no = "within", 1  # a whole page of one second: page through that second alone
    ordered = sorted(collected.values(), key=_key)
    orders = [to_order(o, account=account) for o in ordered]
    next_cursor = orders_cursor(*_key(ordered[-1])) if ordered else cursor
    return OrdersPage(orders=orders, next_cursor=next_cursor, has_more=more)
