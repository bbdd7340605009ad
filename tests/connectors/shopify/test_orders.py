"""Orders: `updated_at` search with cursor paging, nothing missed or repeated across polls, cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from connectors.marketplace.shopify.adapter import ORDERS_PAGE, ShopifyMarketplace
from connectors.marketplace.shopify.mapping import SETTLE_SECONDS
from connectors.marketplace.types import OrdersPage
from tests.connectors.shopify.conftest import Recorder, seed, truth


async def drain(a: ShopifyMarketplace, cursor: str | None) -> tuple[list[str], str | None, int]:
    ids, pages = [], 0
    while True:
        page: OrdersPage = await a.list_orders(cursor)
        pages += 1
        ids += [o.order_id for o in page.orders]
        cursor = page.next_cursor
        if not page.has_more:
            return ids, cursor, pages


async def test_orders_are_paged_and_polled_without_gaps_or_repeats(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 3, quantity=1000)
    a: ShopifyMarketplace = make_adapter()
    bought = []
    for i in range(60):
        r = await control.post(
            "/_sandbox/orders", json={"sku": skus[i % 3], "quantity": 1 + i % 2, "order_id": f"web-{i}"}
        )
        bought.append(r.json()["order_id"])
    first, cursor, pages = await drain(a, None)
    assert first == bought  # oldest first, each once
    assert pages == -(-60 // ORDERS_PAGE)
    # seconds that are not settled yet (all of them, just now) come again: a repeat, never a miss
    again, cursor, _ = await drain(a, cursor)
    assert again == bought
    a.clock = lambda: datetime.now(UTC) + timedelta(seconds=SETTLE_SECONDS + 1)
    again, cursor, _ = await drain(a, cursor)
    assert again == bought
    # settled: a quiet poll returns nothing, although the search includes the watermark's second again
    again, cursor, _ = await drain(a, cursor)
    assert again == []
    # orders created in the same second as the watermark are still picked up, once
    more = [
        (await control.post("/_sandbox/orders", json={"sku": skus[0], "quantity": 1})).json()["order_id"]
        for _ in range(3)
    ]
    later, cursor, _ = await drain(a, cursor)
    assert later == more
    later, cursor, _ = await drain(a, cursor)
    assert later == []
    queries = [
        e.request["variables"]["query"]
        for e in recorder.graphql()
        if e.request["operationName"] == "MerchflowOrders"
    ]
    assert queries[0] == "" and all(q.startswith("updated_at:>='") for q in queries[-2:])


async def test_order_contents_and_cancellation(make_adapter, control: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 2, quantity=10)
    a: ShopifyMarketplace = make_adapter()
    r = await control.post(
        "/_sandbox/orders", json={"sku": skus[0], "quantity": 2, "lines": [{"sku": skus[1], "quantity": 3}]}
    )
    order_id = r.json()["order_id"]
    page = await a.list_orders()
    order = next(o for o in page.orders if o.order_id == order_id)
    assert [(ln.sku, ln.quantity, str(ln.unit_price)) for ln in order.lines] == [
        (skus[0], 2, "10.00"),
        (skus[1], 3, "10.00"),
    ]
    assert (order.status, order.cancelled, order.currency, order.created_at.tzinfo is not None) == (
        "UNFULFILLED",
        False,
        "USD",
        True,
    )
    assert (await truth(control, skus[1]))["quantity"] == 7
    # cancelled within the same second it was created: updatedAt does not move, the order must come again anyway
    cancelled = await a.cancel_order(order_id, reason="inventory", idempotency_key="cancel-1")
    assert cancelled.status == "applied"
    assert (await truth(control, skus[1]))["quantity"] == 10  # restocked
    twice = await a.cancel_order(order_id, reason="inventory", idempotency_key="cancel-2")
    assert (twice.status, twice.code) == ("applied", "ALREADY_CANCELLED")
    updated = await a.list_orders(page.next_cursor)
    assert [(o.order_id, o.cancelled) for o in updated.orders] == [(order_id, True)]
    unknown = await a.cancel_order("gid://shopify/Order/1", reason="other", idempotency_key="cancel-3")
    assert (unknown.status, unknown.code) == ("rejected", "NOT_FOUND")


async def test_buying_more_than_available_is_refused(control: httpx.AsyncClient) -> None:
    skus = await seed(control, 1, quantity=2)
    r = await control.post("/_sandbox/orders", json={"sku": skus[0], "quantity": 3})
    assert r.status_code == 409
    assert (await truth(control, skus[0]))["quantity"] == 2
    assert (await control.post("/_sandbox/orders", json={"sku": "NOPE", "quantity": 1})).status_code == 404
