"""Contract tests: the adapter's documents and the sandbox's schema against the official Admin GraphQL 2025-01
introspection (read in place from the specs folder). Exchanges captured during the behaviour tests are checked by the
`recorder` fixture of every test; this file checks the static side and runs one exchange of every document."""

from __future__ import annotations

from decimal import Decimal

import httpx
from graphql import build_schema, parse

from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.adapter import SANDBOX_CREDENTIALS, ShopifyMarketplace
from connectors.marketplace.types import ListingDraft, PriceUpdate, QuantityUpdate
from sandboxes.shopify import app as sandbox_app
from sandboxes.shopify.schema import SDL, subset_schema
from tests.connectors.shopify import contract
from tests.connectors.shopify.conftest import Recorder, require_spec


def test_every_adapter_document_is_valid_against_the_official_schema() -> None:
    require_spec()
    official = contract.official_schema()
    assert len(docs.ALL) == len({d.name for d in docs.ALL})
    for doc in docs.ALL:
        assert contract.validation_errors(official, doc.text) == [], doc.name
        assert contract.operation_names(parse(doc.text)) == [doc.name]


def test_all_lists_every_document_the_module_defines() -> None:
    defined = {v.name for v in vars(docs).values() if isinstance(v, docs.Document)}
    assert defined == {d.name for d in docs.ALL}


def test_every_adapter_document_is_valid_against_the_sandbox_subset() -> None:
    for doc in docs.ALL:
        assert contract.validation_errors(subset_schema(), doc.text) == [], doc.name


def test_subset_schema_matches_the_official_types() -> None:
    require_spec()
    assert contract.subset_incompatibilities(subset_schema(), contract.official_schema()) == []


def test_subset_check_catches_a_wrong_type() -> None:
    """The compatibility check is not vacuous: a field typed differently from the official one is reported."""
    require_spec()
    broken = build_schema(
        SDL.replace("quantity: Int!\n  updatedAt: DateTime", "quantity: String!\n  updatedAt: DateTime")
    )
    problems = contract.subset_incompatibilities(broken, contract.official_schema())
    assert any("InventoryQuantity.quantity" in p for p in problems)


def test_the_2025_01_schema_has_compare_quantity_and_no_idempotency_construct() -> None:
    """Why the adapter uses compareQuantity and sends its idempotency key as a header (see inventory.py)."""
    require_spec()
    official = contract.official_schema()
    qty_input = official.get_type("InventoryQuantityInput")
    assert "compareQuantity" in qty_input.fields  # type: ignore[union-attr]
    assert "changeFromQuantity" not in qty_input.fields  # type: ignore[union-attr]
    assert "idempotent" not in {d.name for d in official.directives}
    args = official.mutation_type.fields["inventorySetQuantities"].args  # type: ignore[union-attr]
    assert set(args) == {"input"}


def test_sandbox_credentials_are_the_ones_the_sandbox_accepts() -> None:
    assert SANDBOX_CREDENTIALS == {
        "client_id": sandbox_app.CLIENT_ID,
        "client_secret": sandbox_app.CLIENT_SECRET,
    }


def test_response_checker_reports_a_wrong_answer() -> None:
    """The response walker is not vacuous: a null for a non-null field and an unknown enum value are reported."""
    require_spec()
    bad = {"productUpdate": {"product": {"id": None, "status": "GONE"}, "userErrors": []}}
    problems = contract.response_errors(contract.official_schema(), docs.PRODUCT_UPDATE.text, bad)
    assert any("id: null" in p for p in problems) and any("GONE" in p for p in problems)


async def test_one_exchange_of_every_document(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """Drive the adapter through every document once; the recorder checks requests and responses on teardown."""
    a: ShopifyMarketplace = make_adapter()
    page = await a.list_listings(page_size=5)
    await a.set_quantities(
        [QuantityUpdate(sku=page.items[0].sku, quantity=3, expected_quantity=99)], idempotency_key="c1"
    )
    await a.set_prices([PriceUpdate(sku=page.items[1].sku, price=Decimal("5.55"))], idempotency_key="c2")
    fresh: ShopifyMarketplace = make_adapter()  # empty SKU cache: resolves the variant by gid
    await fresh.set_prices(
        [
            PriceUpdate(
                sku=page.items[2].sku,
                price=Decimal("6.00"),
                external_variant_id=page.items[2].external_variant_id,
            )
        ],
        idempotency_key="c3",
    )
    draft = ListingDraft(
        sku="CONTRACT-1",
        title="Contract item",
        price=Decimal("9.99"),
        quantity=4,
        identifiers={"upc": "012345678905"},
    )
    await a.create_listing(draft, idempotency_key="c4")
    await a.update_listing(draft.model_copy(update={"title": "Contract item v2"}), idempotency_key="c5")
    await a.end_listing("CONTRACT-1", idempotency_key="c6")
    lines = [{"sku": page.items[i % 5].sku, "quantity": 1} for i in range(12)]
    bought = await control.post(
        "/_sandbox/orders", json={"sku": page.items[3].sku, "quantity": 1, "lines": lines}
    )
    assert bought.status_code == 201, bought.text
    orders = await a.list_orders()
    assert [len(o.lines) for o in orders.orders] == [
        13
    ]  # 10 in the page + the rest through MerchflowOrderLines
    await a.cancel_order(bought.json()["order_id"], reason="inventory", idempotency_key="c7")
    seen = set(recorder.operations())
    assert {d.name for d in docs.ALL} <= seen, {d.name for d in docs.ALL} - seen


async def test_factory_and_sandbox_accounts_build_the_shopify_adapter(tmp_settings) -> None:  # type: ignore[no-untyped-def]
    from connectors.marketplace.accounts import account_config, sandbox_credentials
    from connectors.marketplace.factory import build_marketplace
    from merchflow.db.models import MarketplaceAccount

    assert sandbox_credentials("shopify") == SANDBOX_CREDENTIALS
    row = MarketplaceAccount(id=1, marketplace="shopify", name="sandbox", credentials_ref="sandbox-shopify")
    cfg = account_config(row, tmp_settings)
    assert cfg.base_url == "http://127.0.0.1:8703"
    adapter = build_marketplace(cfg)
    try:
        assert isinstance(adapter, ShopifyMarketplace) and adapter.max_batch == 250
        assert adapter.gql.can_refresh  # the sandbox's client credentials, as SecretStr
        assert "merchflow-sandbox-client-secret" not in repr(cfg)
    finally:
        await adapter.aclose()
