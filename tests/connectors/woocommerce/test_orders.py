"""Orders: modified_after polling with a (modified, id) cursor, cancellation."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.types import Order
from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS, WooCommerceMarketplace
from connectors.ratelimit import RateLimiterRegistry
from tests.connectors.woocommerce.conftest import Sandbox
from tests.support.waiting import until


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
    this_second = int(time.time())
    await until(lambda: int(time.time()) > this_second, timeout=5, every=0.01, what="the next second")


async def test_cursor_never_skips_or_repeats_orders_sharing_a_second(sandbox: Sandbox) -> None:
    await sandbox.seed([{"sku": "ORD-1", "title": "o", "price": "3.00", "quantity": 10_000}])
    for i in range(130):  # Woo dates have one-second precision: dozens of orders share each timestamp
        if i in (40, 80):
            await _second_over()
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


class AfterEach(httpx.AsyncBaseTransport):
    """Calls `hook(request)` after each WooCommerce request has been answered (to change the shop between pages)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: Callable[[httpx.Request], None]) -> None:
        self.inner, self.hook = inner, hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.hook(request)
        return response


def _set_modified(sandbox: Sandbox, ids: list[int], at: str) -> None:
    store = sandbox.app.state.woo.state.store
    for order_id in ids:
        store.execute("UPDATE wc_order SET date_modified = ? WHERE id = ?", (at, order_id))


async def test_an_order_modified_while_a_crowded_second_is_paged_makes_none_skipped(sandbox: Sandbox) -> None:
    """45 orders changed in one second, pages of 20: the adapter pages through that second alone (bounded by
    modified_before). One of them changes while it does: it leaves the second, the page total says so, and the
    second is read again from its start - every order comes back once, none is skipped."""
    await sandbox.seed([{"sku": "ORD-4", "title": "o", "price": "3.00", "quantity": 1000}])
    for _ in range(45):
        assert (await sandbox.buy("ORD-4", 1)).status_code == 201
    _set_modified(sandbox, list(range(1, 46)), "2024-03-01T08:00:00")
    crowded_pages: list[int] = []

    def change_one(request: httpx.Request) -> None:
        if request.url.path.endswith("/orders") and "modified_before" in request.url.params:
            crowded_pages.append(int(request.url.params["page"]))
            if len(crowded_pages) == 1:  # after the first page of the crowded second: order 3 is edited
                _set_modified(sandbox, [3], "2024-03-01T08:00:05")

    cfg = AccountConfig(
        marketplace="woocommerce", name="t", base_url=sandbox.base_url,
        options={"rate_per_second": 0, "orders_page_size": 20, "orders_settle_seconds": 0},
        credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
    )  # fmt: skip
    mp = WooCommerceMarketplace.from_config(
        cfg, RateLimiterRegistry(enabled=False), transport=AfterEach(sandbox.recorder, change_one)
    )
    sandbox.adapters.append(mp)
    seen, _, _ = await _drain(mp, None)
    ids = [int(o.order_id) for o in seen]
    assert sorted(set(ids)) == list(range(1, 46))  # none skipped
    assert crowded_pages[:3] == [1, 2, 1]  # page 2 showed the second had changed: read again from its start
