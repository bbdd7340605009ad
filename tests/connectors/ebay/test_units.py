"""Pure pieces of the eBay adapter: error classification, per-item outcomes, cursors, limits, mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from connectors.errors import (
    AuthError,
    ConcurrentModification,
    NotFoundError,
    RateLimited,
    ServerError,
    ValidationError,
)
from connectors.marketplace.ebay import mapping
from connectors.marketplace.ebay.errors import classify, outcomes_for_chunk
from connectors.marketplace.ebay.limits import MAX_BULK, limit_for
from connectors.marketplace.ebay.orders import OrdersCursor
from connectors.marketplace.types import ListingDraft


def resp(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def err(error_id: int, message: str = "m") -> dict:
    return {
        "errors": [
            {"errorId": error_id, "domain": "API_INVENTORY", "category": "REQUEST", "message": message}
        ]
    }


@pytest.mark.parametrize(
    ("status", "body", "kind", "retryable"),
    [
        (500, err(25025), ConcurrentModification, True),
        (500, err(25001), ServerError, True),
        (429, err(2001), RateLimited, True),
        (401, err(1001), AuthError, False),
        (400, {"error": "invalid_grant", "error_description": "bad"}, AuthError, False),
        (404, err(25710), NotFoundError, False),
        (400, err(25709), ValidationError, False),
        (400, {"error": [{"errorId": 1622, "message": "Invalid legacyOrderId."}]}, ValidationError, False),
    ],
)
def test_classify(status, body, kind, retryable) -> None:
    e = classify(resp(status, body, **{"retry-after": "3"}), "op")
    assert type(e) is kind and e.retryable is retryable and e.marketplace == "ebay"
    if kind in (RateLimited, ConcurrentModification):
        assert e.retry_after == 3.0


def test_outcomes_per_sku_keep_order_and_never_invent_success() -> None:
    responses = [
        {"sku": "B", "offerId": "2", "statusCode": 200},
        {"sku": "B", "offerId": "3", "statusCode": 500, "errors": err(25025)["errors"]},
        {"sku": "A", "statusCode": 200, "warnings": [{"errorId": 25402, "message": "System warning."}]},
        {"sku": "C", "statusCode": 400, "errors": err(25702)["errors"]},
    ]
    out = outcomes_for_chunk(["A", "B", "C", "D"], responses)
    assert [(o.sku, o.status, o.code) for o in out] == [
        ("A", "applied", None),
        ("B", "failed", "25025"),  # one of its offers was locked: the SKU is retried
        ("C", "rejected", "25702"),
        ("D", "failed", "no_response"),
    ]
    assert out[0].message == "System warning."


def test_orders_cursor_round_trip_sweep_and_realign() -> None:
    since, until = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 3, tzinfo=UTC)
    c = OrdersCursor(since=since).start(until)
    assert (c.since, c.until, c.offset, c.total) == (since, until, 0, None)
    mid = c.after(100, 250)
    assert (mid.offset, mid.total) == (100, 250) and OrdersCursor.decode(mid.encode()) == mid
    assert mid.realign(250) is None
    assert mid.realign(247) == OrdersCursor(
        since=since, until=until, offset=97, total=247
    )  # 3 left: step back 3
    assert mid.realign(251) == OrdersCursor(
        since=since, until=until, offset=0, total=251
    )  # one arrived: restart
    end = mid.after(100, 200)
    assert end == OrdersCursor(since=until)  # the next sweep starts where this one's window ended (inclusive)
    assert OrdersCursor(since=until).start(since).until == until  # a window never ends before it starts
    legacy = OrdersCursor.decode("ebay-orders-v1|2024-01-01T00:00:00+00:00|300|2024-01-02T00:00:00+00:00")
    assert legacy == OrdersCursor(since=datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError):
        OrdersCursor.decode("garbage")


def test_published_daily_limits_become_per_second_buckets() -> None:
    inv = limit_for("inventory")
    assert inv.rate == pytest.approx(2_000_000 / 86_400)
    assert inv.rate * MAX_BULK == pytest.approx(
        578.7, abs=0.1
    )  # SKUs per second through bulkUpdatePriceQuantity
    assert limit_for("browse").rate == pytest.approx(5_000 / 86_400)
    assert limit_for("inventory", {"inventory": 8_640_000}).rate == pytest.approx(100)


def test_page_cursor_follows_next_link_only() -> None:
    nxt = "https://api.ebay.com/sell/inventory/v1/inventory_item?limit=100&offset=7&evil=1"
    cursor = mapping.page_cursor(nxt)
    assert cursor == "offset=7&limit=100"
    assert mapping.cursor_params(cursor, 25, 100) == {
        "limit": "100",
        "offset": "7",
    }  # a cursor keeps its size
    assert mapping.cursor_params(None, 25, 100) == {"limit": "25", "offset": "0"}
    assert mapping.page_cursor(None) is None


def test_draft_to_inventory_item_and_offer() -> None:
    d = ListingDraft(
        sku="S",
        title="T",
        price=Decimal("9.5"),
        quantity=2,
        condition="used",
        identifiers={"gtin": "9780306406157", "upc": "012345678905", "asin": "B0X"},
        brand="Acme",
    )
    item = mapping.inventory_item_body(d)
    assert item["condition"] == "USED_GOOD"
    assert item["product"]["isbn"] == ["9780306406157"] and item["product"]["upc"] == ["012345678905"]
    assert item["product"]["aspects"] == {"Brand": ["Acme"]}
    offer = mapping.offer_body(d, {"marketplace_id": "EBAY_DE", "payment_policy_id": 7})
    assert offer["pricingSummary"]["price"] == {"value": "9.50", "currency": "USD"}
    assert offer["marketplaceId"] == "EBAY_DE" and offer["listingPolicies"] == {"paymentPolicyId": "7"}
    assert mapping.ebay_time(datetime(2024, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)) == "2024-01-02T03:04:05.678Z"


def test_sandbox_accounts_are_wired_through_the_factory(tmp_path) -> None:
    from connectors.marketplace.accounts import account_config
    from connectors.marketplace.ebay.adapter import EbayMarketplace
    from connectors.marketplace.factory import build_marketplace
    from connectors.ratelimit import RateLimiterRegistry
    from merchflow.db.models import MarketplaceAccount
    from merchflow.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    row = MarketplaceAccount(marketplace="ebay", name="sandbox", credentials_ref="sandbox-ebay", config={})
    cfg = account_config(row, settings)
    assert cfg.base_url == "http://127.0.0.1:8702"
    assert cfg.credentials["client_id"].get_secret_value() == "merchflow-sandbox-ebay"
    adapter = build_marketplace(cfg, RateLimiterRegistry(enabled=False))
    assert isinstance(adapter, EbayMarketplace) and adapter.max_batch == 25
    assert "sandbox-client-secret" not in repr(cfg)
