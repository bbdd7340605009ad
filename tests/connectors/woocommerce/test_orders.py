"""Orders: modified_after polling with a (modified, id) cursor, cancellation."""

from __future__ import annotations

import asyncio
import time

from connectors.marketplace.types import Order
from tests.connectors.woocommerce.conftest import Sandbox


async def _drain(mp, cursor: str | None) -> tuple[list[Order], str | None, int]:  # type: ignore[no-untyped-def]
    seen: list[Order] = []
    calls = 0
    while True:
        page = await mp.list_orders(cursor)
        calls += 1
        seen += page.orders
        cursor = page.next_cursor
        if not page.has_more:
            return seen, cursor, calls


async def _second_over() -> None:
    """Orders of the current second are held back (it is not over); wait until it is."""
    await asyncio.sleep(1.05 - time.time() % 1)


async def test_cursor_never_skips_or_repeats_orders_sharing_a_second(sandbox: Sandbox) -> None:
    await sandbox.seed([{"sku": "ORD-1", "title": "o", "price": "3.00", "quantity": 10_000}])
    for i in range(130):  # Woo dates have one-second precision: dozens of orders share each timestamp
        if i in (40, 80):
            await asyncio.sleep(1.05)
        assert (await sandbox.buy("ORD-1", 1 + i % 3)).status_code == 201
    mp = sandbox.adapter(options={"orders_page_size": 20, "orders_settle_seconds": 0})
    await _second_over()
    seen, cursor, calls = await _drain(mp, None)
    assert sorted(int(o.order_id) for o in seen) == list(range(1, 131))
    assert calls >= 3  # pages of 20, orders of a second held back until the whole second is read
    o = seen[0]
    assert o.lines[0].sku == "ORD-1" and o.lines[0].unit_price is not None and o.created_at.tzinfo is not None
    # nothing new: the same cursor comes back and no order is repeated
    again = await mp.list_orders(cursor)
    assert again.orders == [] and again.next_cursor == cursor and not again.has_more
    # new orders and a changed older one appear exactly once each, once their second is over
    await _second_over()  # start of a fresh second: the buys and the early poll below share it
    for _ in range(5):
        await sandbox.buy("ORD-1", 1)
    early = await mp.list_orders(cursor)
    assert early.orders == [], "orders of a second that is not over yet must wait"
    assert (await mp.cancel_order("7", reason="customer asked", idempotency_key="c7")).status == "applied"
    await _second_over()
    more, _, _ = await _drain(mp, cursor)
    assert sorted(int(o.order_id) for o in more) == [7, 131, 132, 133, 134, 135]
    assert next(o for o in more if o.order_id == "7").cancelled


async def test_cancel_restocks_and_is_idempotent(sandbox: Sandbox) -> None:
    await sandbox.seed([{"sku": "ORD-2", "title": "o", "price": "3.00", "quantity": 5}])
    order = (await sandbox.buy("ORD-2", 2, order_id="web-1001")).json()
    assert (await sandbox.truth("ORD-2"))["ORD-2"]["quantity"] == 3
    # the same customer order placed twice (a retried checkout) is one order
    assert (await sandbox.buy("ORD-2", 2, order_id="web-1001")).json()["id"] == order["id"]
    assert (await sandbox.truth("ORD-2"))["ORD-2"]["quantity"] == 3
    mp = sandbox.adapter()
    for _ in range(2):
        result = await mp.cancel_order(str(order["id"]), reason="fraud check", idempotency_key="cancel-1")
        assert result.status == "applied" and result.external_id == str(order["id"])
    assert (await sandbox.truth("ORD-2"))["ORD-2"]["quantity"] == 5  # restocked once
    raw = (await sandbox.woo("GET", f"/orders/{order['id']}")).json()
    assert raw["status"] == "cancelled"
    assert {"key": "_merchflow_cancel_reason", "value": "fraud check"}.items() <= raw["meta_data"][0].items()
    assert await sandbox.duplicates() == []


async def test_buying_below_zero_is_refused(sandbox: Sandbox) -> None:
    await sandbox.seed([{"sku": "ORD-3", "title": "o", "price": "3.00", "quantity": 1}])
    assert (await sandbox.buy("ORD-3", 2)).status_code == 409
    assert (await sandbox.buy("NOPE", 1)).status_code == 404
    assert (await sandbox.truth("ORD-3"))["ORD-3"]["quantity"] == 1
    await sandbox.woo("GET", "/orders")  # an empty, well-formed list with paging headers
