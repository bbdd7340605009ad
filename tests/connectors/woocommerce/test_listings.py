"""Listing sync: paging, variations, incremental cursors, SKU cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.marketplace.types import QuantityUpdate
from connectors.marketplace.woocommerce.mapping import listings_cursor_since
from tests.connectors.woocommerce.conftest import Sandbox


async def test_pages_through_10000_listings_including_variations(sandbox: Sandbox) -> None:
    simple = [
        {"sku": f"S-{i:05d}", "title": f"Item {i}", "price": "9.50", "quantity": i % 7} for i in range(9_900)
    ]
    variations = [
        {
            "sku": f"V-{i:03d}",
            "title": "Shirt",
            "price": "20.00",
            "quantity": 3,
            "parent_sku": f"SHIRT-{i // 10}",
        }
        for i in range(100)
    ]
    assert await sandbox.seed(simple + variations) == 10_000
    mp = sandbox.adapter()
    seen: dict[str, object] = {}
    cursor, pages = None, 0
    while True:
        page = await mp.list_listings(cursor)
        pages += 1
        for item in page.items:
            assert item.sku not in seen, f"{item.sku} listed twice"
            seen[item.sku] = item
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    demo = [s for s in seen if s.startswith("DEMO-")]
    assert len(seen) - len(demo) == 10_000
    assert len(demo) == 12  # the demo catalog the sandbox seeds itself with
    assert not any(s.startswith("SHIRT-") for s in seen), "variable parents are not sellable SKUs"
    # 9,912 products + 10 variable parents in pages of 100, each parent's variations fetched separately
    assert pages == 100
    v = seen["V-042"]
    assert v.external_variant_id is not None and v.external_id != v.external_variant_id  # type: ignore[attr-defined]
    assert v.quantity == 3 and str(v.price) == "20.00"  # type: ignore[attr-defined]
    assert seen["S-00010"].quantity == 3  # type: ignore[attr-defined]
    # the sync warmed the SKU cache: a write needs no lookup request
    before = len(await sandbox.requests())
    result = await mp.set_quantities([QuantityUpdate(sku="V-042", quantity=1)], idempotency_key="after-sync")
    assert result.outcomes[0].status == "applied"
    assert [r["path"] for r in (await sandbox.requests())[before:]] == [
        f"/wp-json/wc/v3/products/{v.external_id}/variations/batch"  # type: ignore[attr-defined]
    ]


async def test_incremental_cursor_lists_only_changed_products(sandbox: Sandbox) -> None:
    await sandbox.seed([{"sku": f"I-{i}", "title": "x", "price": "1.00", "quantity": 1} for i in range(30)])
    mp = sandbox.adapter()
    since = datetime.now(UTC) - timedelta(seconds=1)
    old = await mp.list_listings(listings_cursor_since(since + timedelta(hours=1)))
    assert old.items == [] and old.next_cursor is None
    assert (
        len((await mp.list_listings(listings_cursor_since(since - timedelta(days=1)), page_size=100)).items)
        == 42
    )


async def test_page_size_is_capped_at_the_api_maximum(sandbox: Sandbox) -> None:
    mp = sandbox.adapter()
    page = await mp.list_listings(page_size=500)  # per_page > 100 would be a 400 rest_invalid_param
    assert len(page.items) == 12


async def test_cursor_keeps_the_page_size_it_was_counted_in(sandbox: Sandbox) -> None:
    mp = sandbox.adapter()
    first = await mp.list_listings(page_size=5)
    second = await mp.list_listings(first.next_cursor)  # no page_size: the cursor's 5 still applies
    third = await mp.list_listings(second.next_cursor, page_size=100)
    skus = [i.sku for p in (first, second, third) for i in p.items]
    assert len(skus) == len(set(skus)) == 12 and third.next_cursor is None
