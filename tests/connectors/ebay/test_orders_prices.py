"""Orders (Fulfillment getOrders cursor), seller cancellation (Post-Order) and competitive prices (Browse search).
These APIs are not in ../shared/specs: behaviour tests only, no contract test."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

from connectors.marketplace.ebay.orders import OrdersCursor
from connectors.marketplace.types import ProductIdentifier


async def buy(ebay, sku: str, quantity: int = 1, order_id: str | None = None):
    body = {"sku": sku, "quantity": quantity, **({"order_id": order_id} if order_id else {})}
    return await ebay.call("POST", "/_sandbox/orders", json=body)


async def test_orders_since_cursor_pages_and_moves_forward(ebay, listings) -> None:
    await ebay.seed(listings(3, quantity=10))
    for n in range(5):
        assert (await buy(ebay, f"SKU-{n % 3:06d}", order_id=f"01-0000{n}-00000")).status_code == 201
    adapter = ebay.adapter(orders_page_size=2)
    seen, cursor, pages = [], None, 0
    while True:
        page = await adapter.list_orders(cursor)
        seen += [o.order_id for o in page.orders]
        cursor, pages = page.next_cursor, pages + 1
        if not page.has_more:
            break
    assert sorted(seen) == [f"01-0000{n}-00000" for n in range(5)] and pages == 3
    first = (await ebay.adapter().list_orders()).orders[0]
    assert (
        first.lines[0].quantity == 1
        and first.lines[0].unit_price == Decimal("10.00")
        and first.currency == "USD"
    )
    # the next poll starts at the newest change seen (inclusive): a new order appears, nothing is skipped
    await buy(ebay, "SKU-000000", order_id="01-00009-00000")
    later = await adapter.list_orders(cursor)
    assert "01-00009-00000" in [o.order_id for o in later.orders]
    assert len(later.orders) <= 2
    sent = ebay.exchanges("/sell/fulfillment/v1/order")[-1].request.url.params
    assert sent["filter"].startswith("lastmodifieddate:[") and sent["filter"].endswith("..]")


async def test_orders_cursor_is_opaque_but_checked(ebay) -> None:
    import pytest

    from connectors.errors import ValidationError

    with pytest.raises(ValidationError):
        await ebay.adapter().list_orders("offset=3")
    c = OrdersCursor.decode(
        OrdersCursor(since=OrdersCursor.decode("ebay-orders-v1|2024-01-01T00:00:00+00:00|0|").since).encode()
    )
    assert c.offset == 0 and c.high is None


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
    adapter = ebay.adapter()
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
