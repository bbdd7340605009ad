"""Orders (Fulfillment getOrders cursor), seller cancellation (Post-Order) and competitive prices (Browse search).
These APIs are not in ../shared/specs: behaviour tests only, no contract test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

from connectors.marketplace.ebay.mapping import ebay_time
from connectors.marketplace.ebay.orders import OrdersCursor
from connectors.marketplace.types import ProductIdentifier
from tests.support.waiting import until


async def buy(ebay, sku: str, quantity: int = 1, order_id: str | None = None):
    body = {"sku": sku, "quantity": quantity, **({"order_id": order_id} if order_id else {})}
    return await ebay.call("POST", "/_sandbox/orders", json=body)


def set_modified(ebay, order_ids: list[str], times: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Give orders the lastModifiedDate the test needs (ties, a fixed order), in the row and in its body alike."""
    store = ebay.app.state.sandbox.store
    for order_id, at in zip(order_ids, times, strict=True):
        store.execute(
            "UPDATE ebay_order SET modified_at = ?, body = json_set(body, '$.lastModifiedDate', ?) WHERE order_id = ?",
            (at, at, order_id),
        )


async def sweep(adapter, cursor: str | None) -> tuple[list[list[str]], str | None]:  # type: ignore[no-untyped-def]
    """Every page of one sweep (until has_more is False): the order ids per page, and the cursor after it."""
    pages: list[list[str]] = []
    while True:
        page = await adapter.list_orders(cursor)
        pages.append([o.order_id for o in page.orders])
        cursor = page.next_cursor
        if not page.has_more:
            return pages, cursor


async def test_orders_since_cursor_pages_and_moves_forward(ebay, listings) -> None:
    await ebay.seed(listings(3, quantity=10))
    for n in range(5):
        assert (await buy(ebay, f"SKU-{n % 3:06d}", order_id=f"01-0000{n}-00000")).status_code == 201
    adapter = ebay.adapter(orders_page_size=2, orders_settle_seconds=0)
    pages, cursor = await sweep(adapter, None)
    seen = [o for page in pages for o in page]
    assert sorted(seen) == [f"01-0000{n}-00000" for n in range(5)] and len(pages) == 3
    first = (await ebay.adapter(orders_settle_seconds=0).list_orders()).orders[0]
    assert (
        first.lines[0].quantity == 1
        and first.lines[0].unit_price == Decimal("10.00")
        and first.currency == "USD"
    )
    # the next sweep starts where this one's window ended: the new order is in it, however many orders were
    # modified in the same millisecond as the last one of the previous sweep (they may be seen again, at most)
    await buy(ebay, "SKU-000000", order_id="01-00009-00000")
    later, _ = await sweep(adapter, cursor)
    assert "01-00009-00000" in [o for page in later for o in page]
    sent = ebay.exchanges("/sell/fulfillment/v1/order")[-1].request.url.params
    assert sent["filter"].startswith("lastmodifieddate:[") and sent["filter"].endswith("Z]")


async def test_more_than_a_page_of_orders_sharing_one_modification_time(ebay, listings) -> None:
    """Seven orders modified in the same millisecond, two per page: one sweep returns each exactly once, no page
    twice; the next sweep does not read them again, and finds the order that came after."""
    await ebay.seed(listings(1, quantity=50))
    ids = [f"02-0000{n}-00000" for n in range(7)]
    for order_id in ids:
        assert (await buy(ebay, "SKU-000000", order_id=order_id)).status_code == 201
    set_modified(ebay, ids, ["2024-03-01T08:00:00.000Z"] * 7)
    adapter = ebay.adapter(orders_page_size=2, orders_settle_seconds=0, orders_lookback_days=10000)
    pages, cursor = await sweep(adapter, None)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert sorted(o for p in pages for o in p) == ids  # each once: no page served again, none skipped
    again, cursor = await sweep(adapter, cursor)
    assert again == [[]]  # the tie group is behind the cursor now
    await buy(ebay, "SKU-000000", order_id="02-00009-00000")
    newer, _ = await sweep(adapter, cursor)
    assert newer == [["02-00009-00000"]]


async def test_an_order_modified_during_a_sweep_makes_no_other_order_skipped(ebay, listings) -> None:
    """Orders leave the sweep's window when they are modified; the orders after them move up. The cursor steps back
    by as many as left (the page total says so), so the rest of the sweep still returns every order; the modified
    one comes in the next sweep."""
    await ebay.seed(listings(1, quantity=50))
    ids = [f"03-0000{n}-00000" for n in range(6)]
    for order_id in ids:
        assert (await buy(ebay, "SKU-000000", order_id=order_id)).status_code == 201
    set_modified(ebay, ids, [f"2024-03-01T08:00:0{n}.000Z" for n in range(6)])
    adapter = ebay.adapter(orders_page_size=2, orders_settle_seconds=0, orders_lookback_days=10000)
    page = await adapter.list_orders()
    assert [o.order_id for o in page.orders] == ids[:2] and page.has_more
    window_end = OrdersCursor.decode(page.next_cursor or "").until
    assert window_end is not None
    await until(
        lambda: datetime.now(UTC) - timedelta(milliseconds=2) > window_end, what="the clock past the window"
    )
    set_modified(ebay, [ids[0]], [ebay_time(datetime.now(UTC))])  # modified now: after this sweep's window
    rest, cursor = await sweep(adapter, page.next_cursor)
    assert set(ids[2:]) <= {o for p in rest for o in p}  # nothing skipped
    later, _ = await sweep(adapter, cursor)
    assert ids[0] in {o for p in later for o in p}  # the modification is in the next sweep


async def test_orders_cursor_is_opaque_but_checked(ebay) -> None:
    import pytest

    from connectors.errors import ValidationError

    with pytest.raises(ValidationError):
        await ebay.adapter().list_orders("offset=3")
    c = OrdersCursor.decode(
        OrdersCursor(since=OrdersCursor.decode("ebay-orders-v1|2024-01-01T00:00:00+00:00|0|").since).encode()
    )
    assert c.offset == 0 and c.until is None


async def test_buying_takes_stock_and_never_below_zero(ebay, listings) -> None:
    await ebay.seed(listings(1, quantity=2))
    assert (await buy(ebay, "SKU-000000", 2)).status_code == 201
    assert (await buy(ebay, "SKU-000000", 1)).status_code == 409
    assert (await ebay.truth("SKU-000000"))["quantity"] == 0
    again = await buy(ebay, "SKU-000000", 1, order_id="dup")
    assert again.status_code == 409


async def test_cancel_order_is_idempotent(ebay, listings) -> None:
    await ebay.seed(listings(1))
    order_id = (await buy(ebay, "SKU-000000")).json()["orderId"]
    adapter = ebay.adapter(orders_settle_seconds=0)
    first = await adapter.cancel_order(
        order_id, reason="out_of_stock_or_cannot_fulfill", idempotency_key="x-1"
    )
    second = await adapter.cancel_order(
        order_id, reason="out_of_stock_or_cannot_fulfill", idempotency_key="x-1"
    )
    assert first.status == second.status == "applied" and first.external_id == second.external_id
    (page,) = [await adapter.list_orders()]
    assert page.orders[0].cancelled
    call = ebay.exchanges("/post-order/v2/cancellation")[0]
    assert call.request.headers["authorization"].startswith("IAF ")
    assert call.request.headers["x-ebay-c-marketplace-id"] == "EBAY-US"
    unknown = await adapter.cancel_order("00-00000-00000", reason="x", idempotency_key="x-2")
    assert unknown.status == "rejected" and unknown.code == "1622"


async def test_competitive_prices_from_browse_search(ebay, listings) -> None:
    await ebay.seed(
        [
            {
                "sku": "OWN-1",
                "title": "Mug",
                "price": "12.00",
                "quantity": 3,
                "identifiers": {"ean": "4006381333931"},
            }
        ]
    )
    await ebay.call(
        "PUT",
        "/_sandbox/ebay/competitors",
        json={
            "gtin": "4006381333931",
            "offers": [
                {"seller": "cheap_shop", "price": "10.50", "shipping": "2.00"},
                {"seller": "fast_shop", "price": "11.90", "shipping": "0.00", "condition_id": "3000"},
            ],
        },
    )
    adapter = ebay.adapter()
    prices = await adapter.competitive_prices(
        [
            ProductIdentifier(type="ean", value="4006381333931", sku="OWN-1"),
            ProductIdentifier(type="asin", value="B000000000"),  # no exact Browse search for ASINs
        ]
    )
    assert [(p.seller, p.price, p.shipping) for p in prices] == [
        ("fast_shop", Decimal("11.90"), Decimal("0.00")),
        ("cheap_shop", Decimal("10.50"), Decimal("2.00")),
    ]  # sorted by landed price; our own listing (merchflow_sandbox_seller) left out
    assert prices[0].condition == "used" and prices[0].identifier.sku == "OWN-1"
    (search,) = ebay.exchanges("/buy/browse/v1/item_summary/search")
    assert parse_qs(search.request.url.query.decode())["gtin"] == ["4006381333931"]
    assert search.request.headers["x-ebay-c-marketplace-id"] == "EBAY_US"
    # Browse is called with an application token (client_credentials), not the seller's token
    grants = [parse_qs(e.body.decode())["grant_type"][0] for e in ebay.exchanges("/oauth2/token")]
    assert "client_credentials" in grants
