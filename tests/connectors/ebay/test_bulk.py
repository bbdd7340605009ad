"""Bulk price / quantity behaviour against the eBay sandbox: paging, chunking, per-item outcomes, retries."""

from __future__ import annotations

import json
from decimal import Decimal

from connectors.marketplace.types import PriceUpdate, QuantityUpdate


async def test_pages_through_10000_listings(ebay, listings) -> None:
    await ebay.seed(listings(10_000, quantity=3))
    adapter = ebay.adapter(listing_prices=False)
    seen: list[str] = []
    cursor, pages = None, 0
    while True:
        page = await adapter.list_listings(cursor)
        seen.extend(item.sku for item in page.items)
        assert all(item.quantity == 3 for item in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 10_000 and len(set(seen)) == 10_000
    assert pages == 100  # 100 per page, eBay's documented maximum for getInventoryItems
    limits = {e.request.url.params["limit"] for e in ebay.exchanges("/inventory_item")}
    assert limits == {"100"}


async def test_listing_snapshot_carries_the_offer_price_and_status(ebay, listings) -> None:
    await ebay.seed(listings(3, price="12.34"))
    page = await ebay.adapter().list_listings(page_size=10)
    assert [i.price for i in page.items] == [Decimal("12.34")] * 3
    assert {i.status for i in page.items} == {"active"}
    assert all(i.external_id for i in page.items)
    assert page.next_cursor is None


async def test_quantities_are_sent_25_per_call_and_applied(ebay, listings) -> None:
    await ebay.seed(listings(60))
    adapter = ebay.adapter()
    result = await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=i) for i in range(60)], idempotency_key="q-1"
    )
    assert [o.status for o in result.outcomes] == ["applied"] * 60
    sizes = [len(json.loads(e.body)["requests"]) for e in ebay.exchanges("/bulk_update_price_quantity")]
    assert sorted(sizes) == [10, 25, 25]
    assert (await ebay.truth("SKU-000042"))["quantity"] == 42


async def test_partial_bulk_failure_is_reported_per_item(ebay, listings) -> None:
    await ebay.seed(listings(3))
    await ebay.config(max_quantity=1000)
    adapter = ebay.adapter()
    result = await adapter.set_quantities(
        [
            QuantityUpdate(sku="SKU-000000", quantity=7),
            QuantityUpdate(sku="NO-SUCH-SKU", quantity=1),
            QuantityUpdate(sku="SKU-000001", quantity=5000),  # above what the marketplace accepts
            QuantityUpdate(sku="SKU-000002", quantity=0),
        ],
        idempotency_key="q-2",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku["SKU-000000"].status == "applied"
    assert by_sku["SKU-000002"].status == "applied"
    assert (by_sku["NO-SUCH-SKU"].status, by_sku["NO-SUCH-SKU"].code) == ("rejected", "25702")
    assert (by_sku["SKU-000001"].status, by_sku["SKU-000001"].code) == ("rejected", "25709")
    assert [e.response.status_code for e in ebay.exchanges("/bulk_update_price_quantity")] == [207]
    assert (await ebay.truth("SKU-000001"))["quantity"] == 5  # untouched
    assert (await ebay.truth("SKU-000002"))["quantity"] == 0


async def test_concurrent_access_25025_on_one_item_is_failed_then_retry_applies(ebay, listings) -> None:
    await ebay.seed(listings(5))
    await ebay.config(concurrent_access_skus=["SKU-000003"])
    adapter = ebay.adapter()
    updates = [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=9) for i in range(5)]
    first = await adapter.set_quantities(updates, idempotency_key="q-3")
    locked = next(o for o in first.outcomes if o.sku == "SKU-000003")
    assert (locked.status, locked.code, locked.retryable) == ("failed", "25025", True)
    assert len(first.applied) == 4
    # the caller retries only what failed
    again = await adapter.set_quantities([u for u in updates if u.sku == locked.sku], idempotency_key="q-3b")
    assert [o.status for o in again.outcomes] == ["applied"]
    assert (await ebay.truth("SKU-000003"))["quantity"] == 9


async def test_prices_resolve_offer_ids_and_refuse_skus_without_offer(ebay, listings) -> None:
    await ebay.seed(listings(2))
    adapter = ebay.adapter()
    # an inventory item without an offer: created through the API, never offered
    await adapter.bulk_create_or_replace_items([], idempotency_key="none")  # no-op, no call
    r = await ebay.call("GET", "/_sandbox/listings", params={"sku": "SKU-000000"})
    offer_id = r.json()["listings"][0]["offer_id"]
    from connectors.marketplace.types import ListingDraft

    await adapter.bulk_create_or_replace_items(
        [ListingDraft(sku="NO-OFFER", title="x", price=Decimal("1"), quantity=1)], idempotency_key="b"
    )
    result = await adapter.set_prices(
        [
            PriceUpdate(sku="SKU-000000", price=Decimal("19.90")),
            PriceUpdate(sku="SKU-000001", price=Decimal("21.00")),
            PriceUpdate(sku="NO-OFFER", price=Decimal("5.00")),
        ],
        idempotency_key="p-1",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku["SKU-000000"].status == "applied" and by_sku["SKU-000000"].external_id == offer_id
    assert by_sku["SKU-000001"].status == "applied"
    assert (by_sku["NO-OFFER"].status, by_sku["NO-OFFER"].code) == ("rejected", "no_offer")
    assert (await ebay.truth("SKU-000000"))["price"] == "19.90"
    sent = [json.loads(e.body) for e in ebay.exchanges("/bulk_update_price_quantity")]
    assert sent[0]["requests"][0]["offers"][0] == {
        "offerId": offer_id,
        "price": {"value": "19.90", "currency": "USD"},
    }


async def test_a_5xx_write_is_not_resent_and_its_items_fail_retryably(ebay, listings) -> None:
    """A 5xx leaves a write's outcome unknown: the transport does not resend it (eBay has no idempotency keys), the
    chunk's items come back failed, and the caller's next call (with the values current then) applies them."""
    await ebay.seed(listings(100))
    await ebay.faults(error_rate=0.4, seed=11)
    adapter = ebay.adapter(max_retries=8)
    updates = [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=1) for i in range(100)]
    first = await adapter.set_quantities(updates, idempotency_key="q-5")
    sent = ebay.exchanges("/bulk_update_price_quantity")
    assert len(sent) == 4  # one request per 25-SKU chunk, none resent
    failed = [o for o in first.outcomes if o.status == "failed"]
    assert failed and all(o.retryable for o in failed)
    assert len(first.applied) == 25 * sum(1 for e in sent if e.response.status_code == 200)
    await ebay.faults(error_rate=0.0)
    again = [u for u in updates if u.sku in {o.sku for o in failed}]
    second = await adapter.set_quantities(again, idempotency_key="q-5:r2")
    assert len(second.applied) == len(again)


async def test_429_waits_the_advertised_retry_after(ebay, listings) -> None:
    await ebay.seed(listings(5))
    adapter = ebay.adapter()
    await adapter.client.user_tokens.token()  # the token call is not what this test is about
    await ebay.faults(rate_429=1.0, retry_after_seconds=2)

    def calm_down(ex) -> None:
        if ex.response.status_code == 429:
            ebay.app.state.sandbox.faults.rate_429 = 0.0

    ebay.capture.on_response = calm_down
    result = await adapter.set_quantities(
        [QuantityUpdate(sku="SKU-000001", quantity=2)], idempotency_key="q-6"
    )
    assert [o.status for o in result.outcomes] == ["applied"]
    rows = await ebay.requests("/sell/inventory/v1/bulk_update_price_quantity")
    assert [r["status"] for r in rows] == [429, 200]
    assert rows[0]["fault"] == "429"
    # the retry went out no earlier than the Retry-After the sandbox advertised
    assert rows[1]["at"] - rows[0]["at"] >= 2.0 * 0.95


async def test_a_bad_request_is_not_retried(ebay) -> None:
    adapter = ebay.adapter()
    from connectors.errors import ValidationError

    try:
        await adapter.client.bulk_update_price_quantity([{"sku": "A"}] * 26, key="too-many")
    except ValidationError as err:
        assert err.code == "25709" and err.status == 400
    else:
        raise AssertionError("26 requests in one call must be refused")
    assert len(ebay.exchanges("/bulk_update_price_quantity")) == 1


async def test_lost_responses_are_never_resent(ebay, listings) -> None:
    """Applied, then 504: the items are failed (outcome unknown), each chunk went out exactly once, and nothing is
    applied twice; the changes are live all the same."""
    await ebay.seed(listings(200, quantity=1))
    await ebay.faults(lost_response_rate=0.5, seed=5)
    adapter = ebay.adapter(max_retries=10)
    result = await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=50 + i) for i in range(200)], idempotency_key="q-7"
    )
    rows = await ebay.requests("/sell/inventory/v1/bulk_update_price_quantity")
    lost = {r["idempotency_key"] for r in rows if r["fault"] == "lost_response"}
    assert lost
    assert sorted(r["idempotency_key"] for r in rows) == sorted(f"q-7:{n}" for n in range(8))  # no resend
    assert len(result.applied) == 200 - 25 * len(lost)
    assert {o.status for o in result.outcomes if o.status != "applied"} == {"failed"}
    assert await ebay.duplicates() == []
    assert (await ebay.truth("SKU-000123"))["quantity"] == 173


async def test_client_side_limits_keep_the_sandbox_from_ever_answering_429(ebay, listings) -> None:
    await ebay.seed(listings(1000))
    await ebay.faults(rate_limits=True)
    adapter = ebay.adapter(rate_limits=True)
    result = await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=2) for i in range(1000)], idempotency_key="q-8"
    )
    assert len(result.applied) == 1000
    statuses = [e.response.status_code for e in ebay.exchanges("/bulk_update_price_quantity")]
    assert 429 not in statuses, statuses
    assert len(statuses) == 40, statuses
