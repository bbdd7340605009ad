"""Create / update / end one listing (inventory item + offer + publish / withdraw), idempotent on repeat."""

from __future__ import annotations

import json
from decimal import Decimal

from connectors.marketplace.types import ListingDraft


def draft(**kw) -> ListingDraft:
    base = {
        "sku": "NEW-1",
        "title": "Enamel Camping Mug",
        "description": "Keeps coffee hot.",
        "price": Decimal("14.50"),
        "quantity": 6,
        "brand": "Trailhead",
        "identifiers": {"upc": "012345678905", "mpn": "TH-MUG"},
        "attributes": {"Colour": "Blue"},
    }
    return ListingDraft(**{**base, **kw})


async def test_create_listing_creates_item_offer_and_publishes(ebay) -> None:
    adapter = ebay.adapter()
    result = await adapter.create_listing(draft(), idempotency_key="c-1")
    assert result.status == "applied" and result.external_id
    truth = await ebay.truth("NEW-1")
    assert truth["status"] == "active" and truth["quantity"] == 6 and truth["price"] == "14.50"
    assert truth["offer_id"] == result.external_id
    put = json.loads(ebay.exchanges("/inventory_item/NEW-1")[0].body)
    assert put["product"]["upc"] == ["012345678905"] and put["product"]["aspects"]["Colour"] == ["Blue"]
    assert put["condition"] == "NEW"
    offer = json.loads(next(e for e in ebay.exchanges("/offer") if e.request.method == "POST").body)
    assert offer["format"] == "FIXED_PRICE" and offer["categoryId"] == "9355"
    assert "availableQuantity" not in offer  # quantity lives on the inventory item, so bulk updates move it


async def test_creating_twice_reuses_the_same_offer(ebay) -> None:
    adapter = ebay.adapter()
    first = await adapter.create_listing(draft(), idempotency_key="c-2")
    second = await adapter.create_listing(draft(price=Decimal("15.00")), idempotency_key="c-2")
    assert first.external_id == second.external_id
    assert (await ebay.truth("NEW-1"))["price"] == "15.00"
    creates = [
        e
        for e in ebay.exchanges("/offer")
        if e.request.method == "POST" and e.request.url.path.endswith("/offer")
    ]
    assert len(creates) == 1


async def test_create_offer_answer_lost_is_recovered_from_already_exists(ebay) -> None:
    """createOffer applied but its answer lost: the replay gets 25002 naming the existing offer, which is used."""
    adapter = ebay.adapter()
    await adapter.client.put_inventory_item(
        "NEW-1",
        {"product": {"title": "t"}, "availability": {"shipToLocationAvailability": {"quantity": 1}}},
        None,
    )
    body = {"sku": "NEW-1", "marketplaceId": "EBAY_US", "format": "FIXED_PRICE"}
    original = (await adapter.client.create_offer(body, None)).json()["offerId"]
    again = await adapter._create_offer(body, "replay")
    assert again == original


async def test_update_listing_revises_without_wiping_unmanaged_offer_fields(ebay) -> None:
    adapter = ebay.adapter(fulfillment_policy_id="FP-1")
    await adapter.create_listing(draft(), idempotency_key="u-1")
    other = ebay.adapter()  # an account configuration without the policy option
    result = await other.update_listing(
        draft(title="Enamel Mug, blue", price=Decimal("16.00")), idempotency_key="u-2"
    )
    assert result.status == "applied"
    update = json.loads(next(e for e in ebay.exchanges("/offer/") if e.request.method == "PUT").body)
    assert update["listingPolicies"] == {"fulfillmentPolicyId": "FP-1"}  # kept from what eBay had
    assert update["pricingSummary"]["price"] == {"value": "16.00", "currency": "USD"}
    truth = await ebay.truth("NEW-1")
    assert truth["title"] == "Enamel Mug, blue" and truth["price"] == "16.00" and truth["status"] == "active"


async def test_update_of_an_unknown_listing_is_rejected(ebay) -> None:
    result = await ebay.adapter().update_listing(draft(sku="GHOST"), idempotency_key="u-3")
    assert (result.status, result.code) == ("rejected", "not_found")


async def test_end_listing_withdraws_and_repeating_is_harmless(ebay) -> None:
    adapter = ebay.adapter()
    await adapter.create_listing(draft(), idempotency_key="e-1")
    ended = await adapter.end_listing("NEW-1", idempotency_key="e-2")
    again = await adapter.end_listing("NEW-1", idempotency_key="e-2")
    assert ended.status == again.status == "applied"
    assert (await ebay.truth("NEW-1"))["status"] == "inactive"
    withdraws = [e for e in ebay.exchanges("/withdraw")]
    assert len(withdraws) == 1


async def test_withdraw_replay_after_lost_answer_is_recognised(ebay) -> None:
    adapter = ebay.adapter()
    await adapter.create_listing(draft(), idempotency_key="e-3")
    offer_id = (await ebay.truth("NEW-1"))["offer_id"]
    assert await adapter.client.withdraw_offer(offer_id, None) is True
    assert await adapter.client.withdraw_offer(offer_id, None) is False  # 400 25713: already not live


async def test_publish_without_category_is_rejected_not_retried(ebay) -> None:
    adapter = ebay.adapter(category_id=None)
    result = await adapter.create_listing(draft(), idempotency_key="v-1")
    assert (result.status, result.code) == ("rejected", "25005")
    assert len(ebay.exchanges("/publish/")) == 1


async def test_top_level_concurrent_access_is_retried(ebay) -> None:
    await ebay.config(concurrent_access_skus=["NEW-1"])
    result = await ebay.adapter().create_listing(draft(), idempotency_key="cc-1")
    assert result.status == "applied"
    puts = [e.response.status_code for e in ebay.exchanges("/inventory_item/NEW-1")]
    assert puts == [500, 204]
    assert json.loads(ebay.exchanges("/inventory_item/NEW-1")[0].content)["errors"][0]["errorId"] == 25025


async def test_bulk_create_or_replace_reports_per_item(ebay) -> None:
    await ebay.config(concurrent_access_skus=["B-07"])
    adapter = ebay.adapter()
    drafts = [draft(sku=f"B-{i:02d}", quantity=i) for i in range(30)]
    result = await adapter.bulk_create_or_replace_items(drafts, idempotency_key="bc-1")
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku["B-07"].status == "failed" and by_sku["B-07"].code == "25025"
    assert sum(o.ok for o in result.outcomes) == 29
    assert [len(json.loads(e.body)["requests"]) for e in ebay.exchanges("/bulk_create_or_replace")] == [25, 5]
    assert (await ebay.truth("B-12"))["quantity"] == 12


async def test_a_page_size_above_ebays_maximum_is_asked_as_100_and_pages_to_the_end(ebay) -> None:
    """getInventoryItems refuses limit > 100: the adapter never sends more, and paging still reaches every SKU."""
    await ebay.seed(
        [{"sku": f"PG-{i:03d}", "title": "x", "price": "5.00", "quantity": 1} for i in range(130)]
    )
    adapter = ebay.adapter(listing_prices=False)
    seen, cursor = [], None
    while True:
        page = await adapter.list_listings(cursor, page_size=250)
        seen += [item.sku for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == [f"PG-{i:03d}" for i in range(130)]
    limits = {
        e.request.url.params["limit"] for e in ebay.exchanges("/inventory_item") if e.request.method == "GET"
    }
    assert limits == {"100"}
