"""Listings and prices against the sandbox: paging, productSet create / update, archive, bulk price updates."""

from __future__ import annotations

from decimal import Decimal

import httpx

from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.adapter import ShopifyMarketplace
from connectors.marketplace.types import ListingDraft, PriceUpdate
from tests.connectors.shopify.conftest import Recorder, seed, truth


async def test_paging_through_ten_thousand_listings(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 10_000, quantity=3)
    a: ShopifyMarketplace = make_adapter()
    seen, cursor, pages = [], None, 0
    while True:
        page = await a.list_listings(cursor)
        pages += 1
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 10_012 and len({s.sku for s in seen}) == 10_012  # + the 12 demo products
    assert pages == -(-10_012 // 199)  # full pages of the largest size one query's cost allows
    mine = {s.sku: s for s in seen if s.sku.startswith("SKU-")}
    assert set(mine) == set(skus)
    one = mine["SKU-004242"]
    assert (one.quantity, one.price, one.currency, one.status) == (3, Decimal("10.00"), "USD", "active")
    assert one.external_id.startswith("gid://shopify/Product/")
    assert one.extra["inventory_item_id"].startswith("gid://shopify/InventoryItem/")
    costs = [
        e.response["extensions"]["cost"]
        for e in recorder.graphql()
        if e.request["operationName"] == docs.LISTINGS.name
    ]
    assert all(c["requestedQueryCost"] <= 1000 for c in costs)
    assert costs[-1]["actualQueryCost"] < costs[-1]["requestedQueryCost"]  # a short last page costs less


async def test_prices_grouped_by_product_with_per_item_failures(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 3)
    a: ShopifyMarketplace = make_adapter()
    result = await a.set_prices(
        [
            PriceUpdate(sku=skus[0], price=Decimal("12.50")),
            PriceUpdate(sku="NOPE", price=Decimal("1.00")),
            PriceUpdate(sku=skus[1], price=Decimal("7.00"), currency="EUR"),
            PriceUpdate(sku=skus[2], price=Decimal("3.333")),
        ],
        idempotency_key="p-1",
    )
    assert [(o.status, o.code) for o in result.outcomes] == [
        ("applied", None),
        ("rejected", "UNKNOWN_SKU"),
        ("rejected", "CURRENCY_MISMATCH"),
        ("applied", None),
    ]
    assert (await truth(control, skus[0]))["price"] == "12.50"
    assert (await truth(control, skus[2]))["price"] == "3.33"  # the shop rounds to the currency's cents
    calls = [e for e in recorder.graphql() if e.request["operationName"] == docs.SET_PRICES.name]
    assert len(calls) == 2 and all(e.request["variables"]["productId"] for e in calls)


async def test_variant_level_user_errors_are_mapped_to_their_item(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """Two variants of one product in one call: a bad variant id is refused, its sibling still applied."""
    a: ShopifyMarketplace = make_adapter()
    created = await a.gql.execute(
        docs.PRODUCT_SET,
        {
            "input": {
                "title": "T-shirt",
                "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
                "variants": [
                    {"sku": "TEE-S", "price": "10.00", "optionValues": [{"optionName": "Size", "name": "S"}]},
                    {"sku": "TEE-M", "price": "10.00", "optionValues": [{"optionName": "Size", "name": "M"}]},
                ],
            }
        },
    )
    product = created["productSet"]["product"]
    data = await a.gql.execute(
        docs.SET_PRICES,
        {
            "productId": product["id"],
            "variants": [
                {"id": "gid://shopify/ProductVariant/1", "price": "11.00"},
                {"id": product["variants"]["nodes"][1]["id"], "price": "12.00"},
            ],
        },
    )
    errors = data["productVariantsBulkUpdate"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("PRODUCT_VARIANT_DOES_NOT_EXIST", ["variants", "0", "id"])
    ]
    assert (await truth(control, "TEE-M"))["price"] == "12.00"
    result = await a.set_prices([PriceUpdate(sku="TEE-S", price=Decimal("8.50"))], idempotency_key="t")
    assert result.outcomes[0].status == "applied"


async def test_create_update_and_end_a_listing(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter()
    draft = ListingDraft(
        sku="NEW-1", title="Walnut Desk Organizer", description="Solid <walnut>", price=Decimal("45.00"),
        quantity=12, brand="Grain", category="Office", identifiers={"ean": "4006381333931"},
    )  # fmt: skip
    created = await a.create_listing(draft, idempotency_key="create-1")
    assert created.status == "applied" and created.external_id.startswith("gid://shopify/Product/")
    row = await truth(control, "NEW-1")
    assert (row["title"], row["price"], row["quantity"], row["barcode"], row["status"]) == (
        "Walnut Desk Organizer", "45.00", 12, "4006381333931", "ACTIVE",
    )  # fmt: skip
    # a retried create (new key, lost response) finds the SKU and updates instead of duplicating
    again = await a.create_listing(
        draft.model_copy(update={"price": Decimal("44.00")}), idempotency_key="create-2"
    )
    assert (again.status, again.code, again.external_id) == ("applied", "ALREADY_EXISTS", created.external_id)
    assert len((await control.get("/_sandbox/listings", params={"sku": "NEW-1"})).json()["listings"]) == 1
    updated = await a.update_listing(
        draft.model_copy(update={"title": "Walnut Organizer", "quantity": 0}), idempotency_key="u-1"
    )
    assert updated.status == "applied"
    row = await truth(control, "NEW-1")
    assert (row["title"], row["price"], row["quantity"]) == (
        "Walnut Organizer",
        "45.00",
        12,
    )  # quantity untouched
    ended = await a.end_listing("NEW-1", idempotency_key="end-1")
    assert ended.status == "applied" and (await truth(control, "NEW-1"))["status"] == "ARCHIVED"
    missing = await a.end_listing("NEVER-LISTED", idempotency_key="end-2")
    assert (missing.status, missing.code) == ("rejected", "UNKNOWN_SKU")
    page = await a.list_listings()
    assert {s.sku: s.status for s in page.items}["NEW-1"] == "ended"


async def test_a_retry_under_the_same_key_with_a_changed_draft_converges(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """A caller's retry after a lost answer or a killed worker reuses its key, but the draft may have changed (image
    URLs signed afresh, a quantity that moved): the server refuses a repeated key with a different request, so the
    adapter must not send it that way; the listing ends applied, once."""
    a: ShopifyMarketplace = make_adapter()
    draft = ListingDraft(sku="RETRY-1", title="Oak Tray", price=Decimal("20.00"), quantity=3)
    first = await a.create_listing(draft, idempotency_key="publish-7")
    again = await a.create_listing(
        draft.model_copy(update={"price": Decimal("21.00"), "quantity": 2}), idempotency_key="publish-7"
    )
    assert first.status == "applied" and (again.status, again.external_id) == ("applied", first.external_id)
    assert len((await control.get("/_sandbox/listings", params={"sku": "RETRY-1"})).json()["listings"]) == 1
    assert (await truth(control, "RETRY-1"))["price"] == "21.00"
    same = await a.create_listing(
        draft.model_copy(update={"price": Decimal("21.00"), "quantity": 2}), idempotency_key="publish-7"
    )
    assert (same.status, same.external_id) == ("applied", first.external_id)


async def test_update_of_a_multi_variant_product_keeps_its_other_variants(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter()
    await a.gql.execute(
        docs.PRODUCT_SET,
        {
            "input": {
                "title": "Mug",
                "productOptions": [{"name": "Color", "values": [{"name": "Red"}, {"name": "Blue"}]}],
                "variants": [
                    {
                        "sku": "MUG-R",
                        "price": "8.00",
                        "optionValues": [{"optionName": "Color", "name": "Red"}],
                    },
                    {
                        "sku": "MUG-B",
                        "price": "8.00",
                        "optionValues": [{"optionName": "Color", "name": "Blue"}],
                    },
                ],
            }
        },
    )
    result = await a.update_listing(
        ListingDraft(sku="MUG-R", title="Mug (new)", price=Decimal("9.00")), idempotency_key="m"
    )
    assert result.status == "applied"
    red, blue = await truth(control, "MUG-R"), await truth(control, "MUG-B")
    assert (red["price"], red["title"]) == ("9.00", "Mug (new)")
    assert (blue["price"], blue["product_id"]) == ("8.00", red["product_id"])


async def test_invalid_listing_is_rejected_with_the_user_error(make_adapter) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter()
    bad = await a.create_listing(
        ListingDraft(sku="BAD-1", title="   ", price=Decimal("1.00")), idempotency_key="bad"
    )
    assert (bad.status, bad.code) == ("rejected", "INVALID_PRODUCT")
    wrong_currency = await a.create_listing(
        ListingDraft(sku="EUR-1", title="Euro thing", price=Decimal("1.00"), currency="EUR"),
        idempotency_key="eur",
    )
    assert (wrong_currency.status, wrong_currency.code) == ("rejected", "CURRENCY_MISMATCH")


async def test_competitive_prices_are_empty_on_shopify(adapter: ShopifyMarketplace) -> None:
    from connectors.marketplace.types import ProductIdentifier

    assert await adapter.competitive_prices([ProductIdentifier(type="upc", value="012345678905")]) == []
