"""The Shopify sandbox driven by gql (with the official Admin 2025-01 schema, so every document is validated against
the real API before it is sent) and by ShopifyAPI, Shopify's own Python library; tokens come from the
client-credentials grant through Authlib.

Pointing them at the sandbox, without patching internals: gql's `RequestsHTTPTransport(url=...)` takes the
endpoint URL; ShopifyAPI's documented `ShopifyResource.set_site(...)` (the private-app set-up of its README) names
the shop's API root, after `activate_session` has set the access-token header. Every answer's `data` is also
walked along the document with the official types (tests/connectors/shopify/contract.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shopify
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError

from sandboxes.shopify.app import CLIENT_ID, CLIENT_SECRET, GRAPHQL_PATH, TOKEN_PATH
from tests.conftest import IN_CI
from tests.connectors.shopify import contract
from tests.fidelity.conftest import RunningSandbox

LOCATION = "gid://shopify/Location/71234567890"


@pytest.fixture(scope="module")
def official() -> Any:
    if contract.spec_path() is None:
        missing = "shared/specs/shopify/admin_schema_2025-01.json.gz not found: set MERCHFLOW_SPECS_DIR"
        if IN_CI:
            pytest.fail(missing + " (the fidelity tests must run in CI)")
        pytest.skip(missing)
    return contract.official_schema()


@pytest.fixture(scope="module")
def shop(run_sandbox: Callable[[str], RunningSandbox]) -> RunningSandbox:
    return run_sandbox("shopify")


def access_token(shop: RunningSandbox, secret: str = CLIENT_SECRET) -> str:
    session = OAuth2Session(CLIENT_ID, secret, token_endpoint_auth_method="client_secret_post")
    return str(session.fetch_token(shop.url + TOKEN_PATH, grant_type="client_credentials")["access_token"])


class Admin:
    """gql on the official schema, plus the response check of each answer."""

    def __init__(self, shop: RunningSandbox, schema: Any, token: str) -> None:
        self.schema = schema
        transport = RequestsHTTPTransport(
            url=shop.url + GRAPHQL_PATH, headers={"X-Shopify-Access-Token": token}
        )
        self.client = Client(schema=schema, transport=transport)

    def __call__(self, document: str, **variables: Any) -> dict[str, Any]:
        data = self.client.execute(GraphQLRequest(document, variable_values=variables or None))
        assert contract.response_errors(self.schema, document, data) == []
        return data

    def errors(self, document: str, **variables: Any) -> tuple[list[dict[str, Any]], Any]:
        with pytest.raises(TransportQueryError) as err:
            self.client.execute(GraphQLRequest(document, variable_values=variables or None))
        return list(err.value.errors or []), err.value.data


@pytest.fixture
def admin(shop: RunningSandbox, official: Any) -> Admin:
    return Admin(shop, official, access_token(shop))


def seed(shop: RunningSandbox, n: int) -> list[str]:
    skus = [f"SH-{i:03d}" for i in range(n)]
    shop.seed([{"sku": s, "title": f"Product {s}", "price": "15.00", "quantity": 5} for s in skus])
    return skus


def variant_of(admin: Admin, sku: str) -> dict[str, Any]:
    q = """query V($q: String!) { productVariants(first: 1, query: $q) {
             nodes { id inventoryQuantity inventoryItem { id } product { id } } } }"""
    return dict(admin(q, q=f"sku:{sku}")["productVariants"]["nodes"][0])


def test_client_credentials_grant_and_a_bad_token(shop: RunningSandbox, official: Any) -> None:
    with pytest.raises(OAuthError):
        access_token(shop, secret="not-the-secret")
    stranger = Admin(shop, official, "shpat_" + "0" * 32)
    # Shopify answers 401 {"errors": "[API] Invalid API key or access token ..."}: gql reads the JSON body first
    with pytest.raises((TransportQueryError, TransportServerError)) as err:
        stranger("{ shop { name } }")
    assert "Invalid API key or access token" in str(getattr(err.value, "errors", None) or err.value)
    assert (
        Admin(shop, official, access_token(shop))("{ shop { name currencyCode } }")["shop"]["currencyCode"]
        == "USD"
    )


def test_documents_outside_the_official_schema_never_leave_the_client(admin: Admin) -> None:
    with pytest.raises(GraphQLError):
        admin("{ products(first: 1) { nodes { notAField } } }")


def test_paging_products_and_inventory_items_to_the_end(shop: RunningSandbox, admin: Admin) -> None:
    skus = seed(shop, 37)
    for root, inner in (("products", "variants(first: 5) { nodes { sku } }"), ("inventoryItems", "sku")):
        seen: list[str] = []
        cursor = None
        for _ in range(20):
            page = admin(
                f"query P($after: String) {{ {root}(first: 10, after: $after) {{"
                f" nodes {{ id {inner} }} pageInfo {{ hasNextPage endCursor }} }} }}",
                after=cursor,
            )[root]
            for node in page["nodes"]:
                seen += [v["sku"] for v in node["variants"]["nodes"]] if root == "products" else [node["sku"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        assert sorted(seen) == skus, root
    locations = admin("{ locations(first: 5) { nodes { id name isActive } } }")["locations"]["nodes"]
    assert [loc["id"] for loc in locations] == [LOCATION]


def test_search_filters(shop: RunningSandbox, admin: Admin) -> None:
    seed(shop, 12)
    found = admin('{ products(first: 20, query: "sku:SH-003 OR sku:SH-007") { nodes { title } } }')
    assert sorted(p["title"] for p in found["products"]["nodes"]) == ["Product SH-003", "Product SH-007"]
    items = admin('{ inventoryItems(first: 5, query: "sku:SH-011") { nodes { sku tracked } } }')
    assert items["inventoryItems"]["nodes"] == [{"sku": "SH-011", "tracked": True}]
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        admin(f'{{ products(first: 5, query: "updated_at:>{later}") {{ nodes {{ id }} }} }}')["products"][
            "nodes"
        ]
        == []
    )
    ordered = admin(
        "{ products(first: 3, sortKey: TITLE, reverse: true) { nodes { title totalInventory } } }"
    )
    assert [p["title"] for p in ordered["products"]["nodes"]] == [f"Product SH-{i:03d}" for i in (11, 10, 9)]
    assert {p["totalInventory"] for p in ordered["products"]["nodes"]} == {5}


def test_single_write_reads_back_through_every_root(shop: RunningSandbox, admin: Admin) -> None:
    seed(shop, 3)
    v = variant_of(admin, "SH-001")
    answer = admin(
        """mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
             inventoryAdjustmentGroup { changes { name delta quantityAfterChange } } userErrors { code field } } }""",
        input={"name": "available", "reason": "correction", "quantities": [
            {"inventoryItemId": v["inventoryItem"]["id"], "locationId": LOCATION, "quantity": 11, "compareQuantity": 5}
        ]},
    )["inventorySetQuantities"]  # fmt: skip
    assert answer["userErrors"] == []
    one = admin(
        "query V($id: ID!) { productVariant(id: $id) { inventoryQuantity availableForSale } }", id=v["id"]
    )
    assert one["productVariant"] == {"inventoryQuantity": 11, "availableForSale": True}  # was null by id
    level = admin(
        """query I($id: ID!) { inventoryItem(id: $id) { inventoryLevel(locationId: "gid://shopify/Location/71234567890") {
             quantities(names: ["available", "on_hand"]) { name quantity } } } }""",
        id=v["inventoryItem"]["id"],
    )["inventoryItem"]["inventoryLevel"]["quantities"]
    assert {q["name"]: q["quantity"] for q in level} == {"available": 11, "on_hand": 11}
    product = admin(
        "query P($id: ID!) { product(id: $id) { totalInventory hasOnlyDefaultVariant } }",
        id=v["product"]["id"],
    )
    assert product["product"] == {"totalInventory": 11, "hasOnlyDefaultVariant": True}
    stale = admin(
        """mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
             userErrors { code field } } }""",
        input={"name": "available", "reason": "correction", "quantities": [
            {"inventoryItemId": v["inventoryItem"]["id"], "locationId": LOCATION, "quantity": 1, "compareQuantity": 5}
        ]},
    )["inventorySetQuantities"]["userErrors"]  # fmt: skip
    assert stale == [
        {"code": "COMPARE_QUANTITY_STALE", "field": ["input", "quantities", "0", "compareQuantity"]}
    ]


def test_bulk_writes_adjust_quantities_and_prices(shop: RunningSandbox, admin: Admin) -> None:
    skus = seed(shop, 10)
    variants = {s: variant_of(admin, s) for s in skus}
    changes = [
        {"inventoryItemId": variants[s]["inventoryItem"]["id"], "locationId": LOCATION, "delta": n - 2}
        for n, s in enumerate(skus)
    ]
    group = admin(
        """mutation A($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) {
             inventoryAdjustmentGroup { reason changes(quantityNames: ["available"]) { delta quantityAfterChange } }
             userErrors { code field message } } }""",
        input={"name": "available", "reason": "received", "changes": changes},
    )["inventoryAdjustQuantities"]
    assert group["userErrors"] == [] and group["inventoryAdjustmentGroup"]["reason"] == "received"
    assert [c["quantityAfterChange"] for c in group["inventoryAdjustmentGroup"]["changes"]] == [
        5 + n - 2 for n in range(10)
    ]
    for n, s in enumerate(skus):
        assert shop.truth(s)["quantity"] == 5 + n - 2
    v = variants[skus[4]]
    priced = admin(
        """mutation B($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
             productVariantsBulkUpdate(productId: $productId, variants: $variants) {
               productVariants { price } userErrors { code field } } }""",
        productId=v["product"]["id"],
        variants=[{"id": v["id"], "price": "21.50"}],
    )["productVariantsBulkUpdate"]
    assert priced == {"productVariants": [{"price": "21.50"}], "userErrors": []}
    assert shop.truth(skus[4])["price"] == "21.50"


def test_orders_page_filter_and_read_one(shop: RunningSandbox, admin: Admin) -> None:
    seed(shop, 2)
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bought = [shop.buy("SH-001")["order_id"] for _ in range(3)]
    seen, cursor = [], None
    for _ in range(10):
        page = admin(
            """query O($after: String, $q: String) { orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) {
                 nodes { id name lineItems(first: 5) { nodes { sku quantity } } }
                 pageInfo { hasNextPage endCursor } } }""",
            after=cursor,
            q=f"updated_at:>='{since}'",
        )["orders"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert len(seen) == 3 and {o["lineItems"]["nodes"][0]["sku"] for o in seen} == {"SH-001"}
    assert len(set(bought)) == 3 and len({o["id"] for o in seen}) == 3
    one = admin(
        "query O($id: ID!) { order(id: $id) { name totalPriceSet { shopMoney { amount } } } }",
        id=seen[0]["id"],
    )
    assert one["order"]["totalPriceSet"]["shopMoney"]["amount"] == "15.00"


def test_coercion_errors_are_top_level_like_shopify(shop: RunningSandbox, admin: Admin) -> None:
    seed(shop, 1)
    errors, data = admin.errors('{ productVariant(id: "12345") { id } }')
    assert data is None and errors[0]["message"] == "Invalid global id '12345'"
    assert errors[0]["extensions"]["code"] == "argumentLiteralsIncompatible"
    errors, data = admin.errors("query V($id: ID!) { productVariant(id: $id) { id } }", id="not-a-gid")
    assert data is None and errors[0]["message"].startswith(
        "Variable $id of type ID! was provided invalid value"
    )
    v = variant_of(admin, "SH-000")
    errors, data = admin.errors(
        """mutation B($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
             productVariantsBulkUpdate(productId: $productId, variants: $variants) { userErrors { code } } }""",
        productId=v["product"]["id"],
        variants=[{"id": v["id"], "price": "twelve"}],
    )
    assert data is None and errors[0]["extensions"]["problems"][0]["path"] == ["0", "price"]
    assert shop.truth("SH-000")["price"] == "15.00"  # nothing applied


@pytest.fixture
def shopify_api(shop: RunningSandbox) -> Iterator[None]:
    session = shopify.Session("merchflow-demo.myshopify.com", "2025-01", access_token(shop))
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.set_site(shop.url + "/admin/api/2025-01")
    yield
    shopify.ShopifyResource.clear_session()


def test_shopifyapi_graphql_reads_and_writes(shop: RunningSandbox, shopify_api: None) -> None:
    seed(shop, 4)
    api = shopify.GraphQL()
    found = json.loads(
        api.execute(
            '{ productVariants(first: 5, query: "sku:SH-002") { nodes { id inventoryItem { id } } } }'
        )
    )
    item = found["data"]["productVariants"]["nodes"][0]["inventoryItem"]["id"]
    changed = json.loads(
        api.execute(
            """mutation A($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) {
                 userErrors { code } } }""",
            variables={"input": {"name": "available", "reason": "correction",
                                 "changes": [{"inventoryItemId": item, "locationId": LOCATION, "delta": -2}]}},
        )
    )  # fmt: skip
    assert changed["data"]["inventoryAdjustQuantities"]["userErrors"] == []
    assert shop.truth("SH-002")["quantity"] == 3
    bad = json.loads(api.execute('{ productVariant(id: "gid://shopify/ProductVariant/1") { id } }'))
    assert bad["data"] == {"productVariant": None} and "errors" not in bad
