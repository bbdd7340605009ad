"""Reading listings (searchListingsItems, FBA getInventorySummaries) and single-listing writes (Listings Items)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.errors import ValidationError
from connectors.marketplace.types import ListingDraft
from tests.connectors.amazon.conftest import AmazonEnv


async def test_pages_through_10000_listings(amazon: AmazonEnv) -> None:
    skus = await amazon.seed(10_000, price="12.50", quantity=3)
    mp, rec = amazon.adapter()
    seen: dict[str, tuple[Decimal | None, int | None]] = {}
    cursor, pages = None, 0
    while True:
        page = await mp.list_listings(cursor)
        pages += 1
        assert len(page.items) <= 20
        for item in page.items:
            assert item.sku not in seen, f"{item.sku} listed twice"
            seen[item.sku] = (item.price, item.quantity)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert set(skus) <= set(seen)
    assert len(seen) == 10_000 + 12  # plus the demo catalog the sandbox seeds itself with
    assert pages == -(-len(seen) // 20)
    assert all(seen[s] == (Decimal("12.50"), 3) for s in skus)
    assert len(rec.calls("GET", "/listings/")) == pages


async def test_pages_through_fba_inventory(amazon: AmazonEnv) -> None:
    await amazon.seed(10_000, quantity=4)
    mp, _ = amazon.adapter(listings_source="fba_inventory")
    total, cursor = 0, None
    while True:
        page = await mp.list_listings(cursor)
        assert len(page.items) <= 50
        total += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert total == 10_012


async def test_expired_next_token_is_a_validation_error_not_retried(amazon: AmazonEnv) -> None:
    """getInventorySummaries nextTokens expire (30 s on Amazon): the 400 is not something a retry can fix."""
    amazon.sbx.knobs.next_token_ttl_seconds = 0.001
    await amazon.seed(60)
    mp, rec = amazon.adapter()
    first = await mp.list_fba_inventory()
    assert first.next_cursor
    before = len(rec.exchanges)
    with pytest.raises(ValidationError) as err:
        await mp.list_fba_inventory(first.next_cursor)
    assert err.value.code == "InvalidInput" and not err.value.retryable
    assert len(rec.exchanges) == before + 1  # one request, no retries


async def test_create_update_end_listing(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter()
    draft = ListingDraft(
        sku="NEW-1",
        title="Trail Bottle 750 ml",
        price=Decimal("14.99"),
        quantity=6,
        brand="Hydra",
        identifiers={"upc": "036000291452"},
        image_urls=["https://img/x.jpg"],
    )
    created = await mp.create_listing(draft, idempotency_key="create-1")
    assert created.status == "applied" and created.external_id
    truth = await amazon.listing("NEW-1")
    assert truth and (truth["title"], truth["price"], truth["quantity"]) == (
        "Trail Bottle 750 ml",
        "14.99",
        6,
    )
    put = rec.calls("PUT", "/listings/")[0]
    assert put.request_headers["x-merchflow-idempotency-key"] == "create-1"

    updated = await mp.update_listing(
        draft.model_copy(update={"price": Decimal("13.49"), "quantity": 2}), idempotency_key="update-1"
    )
    assert updated.status == "applied"
    truth = await amazon.listing("NEW-1")
    assert truth and (truth["price"], truth["quantity"]) == ("13.49", 2)

    ended = await mp.end_listing("NEW-1", idempotency_key="end-1")
    assert ended.status == "applied"
    assert await amazon.listing("NEW-1") is None
    assert await mp.get_listing("NEW-1") is None


async def test_listing_issues_become_the_outcome(amazon: AmazonEnv) -> None:
    mp, _ = amazon.adapter()
    bad_price = ListingDraft(sku="NEW-2", title="X", price=Decimal("5.555"), quantity=1)
    result = await mp.create_listing(bad_price, idempotency_key="c2")
    assert (result.status, result.code) == ("rejected", "90000900")
    assert "value_with_tax" in (result.message or "")
    assert await amazon.listing("NEW-2") is None

    unknown = await mp.update_listing(
        ListingDraft(sku="NEVER-LISTED", title="Y", price=Decimal("3")), idempotency_key="u2"
    )
    assert (unknown.status, unknown.code) == ("rejected", "NOT_FOUND")


async def test_listing_write_not_yet_visible_is_not_applied(amazon: AmazonEnv) -> None:
    """Amazon answers ACCEPTED for a PATCH on an unknown SKU; the re-read shows nothing, so it is not applied."""
    amazon.sbx.knobs.accept_unknown_sku_patches = True
    mp, _ = amazon.adapter()
    result = await mp.update_listing(
        ListingDraft(sku="GHOST", title="Z", price=Decimal("3")), idempotency_key="g"
    )
    assert (result.status, result.code) == ("failed", "NOT_CONFIRMED")
