"""The sandbox itself: persistence, settings wiring, cost accounting, request errors, input validation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from merchflow.seed import DEMO_PRODUCTS
from merchflow.settings import Settings
from sandboxes.shopify.app import CLIENT_ID, CLIENT_SECRET, GRAPHQL_PATH, build_app, create_app
from sandboxes.shopify.db import LOCATION_GID
from tests.connectors.shopify.conftest import require_spec
from tests.connectors.shopify.contract import official_schema, response_errors

SET = """mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { code field message } }
}"""


@asynccontextmanager
async def client_for(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as c:
        r = await c.post(
            "/admin/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        c.headers["X-Shopify-Access-Token"] = r.json()["access_token"]
        yield c


async def gql(
    c: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> dict[str, Any]:
    r = await c.post(GRAPHQL_PATH, json={"query": query, "variables": variables or {}}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_state_persists_and_demo_seed_is_idempotent(tmp_path: Path) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        rows = (await c.get("/_sandbox/listings")).json()["listings"]
        assert len(rows) == len(DEMO_PRODUCTS)
        item = rows[0]["inventory_item_id"]
        q = [{"inventoryItemId": item, "locationId": LOCATION_GID, "quantity": 5}]
        body = await gql(
            c,
            SET,
            {
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "ignoreCompareQuantity": True,
                    "quantities": q,
                }
            },
        )
        assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    again = build_app(db_path=tmp_path / "s.db")  # a restart: same file, seeding runs again
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=again), base_url="http://shop.test") as c:
        rows = (await c.get("/_sandbox/listings")).json()["listings"]
        assert len(rows) == len(DEMO_PRODUCTS) and rows[0]["quantity"] == 5


def test_create_app_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path,
        sandbox={"rate_limits": False, "error_rate": 0.25, "webhook_base_url": "http://engine:9000"},  # type: ignore[arg-type]
    )
    app = create_app(settings)
    state = app.state.sandbox
    assert (tmp_path / "sandboxes" / "shopify.db").is_file()
    assert (state.faults.rate_limits, state.faults.error_rate) == (False, 0.25)
    assert state.webhook.url == "http://engine:9000/api/v1/webhooks/shopify/sandbox"
    assert state.webhook.secret == CLIENT_SECRET


async def test_cost_accounting_and_the_single_query_cap(tmp_path: Path) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        page = "query P($n: Int!) { productVariants(first: $n) { nodes { id inventoryItem { id } } } }"
        body = await gql(c, page, {"n": 250})
        cost = body["extensions"]["cost"]
        assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (502, 2 + len(DEMO_PRODUCTS) * 2)
        assert cost["throttleStatus"]["currentlyAvailable"] <= 1000 - cost["actualQueryCost"] + 1
        body = await gql(
            c,
            'query P($n: Int!) { productVariants(first: $n) { nodes { id product { id } inventoryItem { id inventoryLevel(locationId: "gid://shopify/Location/1") { id } } } } }',
            {"n": 250},
        )
        assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED" and "data" not in body
        assert body["extensions"]["cost"]["requestedQueryCost"] == 1002


async def test_request_errors_have_shopify_shapes(tmp_path: Path) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        r = await c.post(
            GRAPHQL_PATH, json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": "nope"}
        )
        assert r.status_code == 401 and "Invalid API key or access token" in r.json()["errors"]
        r = await c.post(GRAPHQL_PATH, json={"variables": {}})
        assert (r.status_code, r.json()) == (
            400,
            {"errors": {"query": "Required parameter missing or invalid"}},
        )
        body = await gql(c, "{ shop { nope } }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        bad = await c.post(
            "/admin/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "x"},
        )
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_client")


async def test_inventory_input_is_validated_and_nothing_applied_on_error(tmp_path: Path) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        rows = (await c.get("/_sandbox/listings")).json()["listings"]
        good = {"inventoryItemId": rows[0]["inventory_item_id"], "locationId": LOCATION_GID, "quantity": 1}

        async def codes(**inp: Any) -> list[tuple[str, list[str]]]:
            base = {"name": "available", "reason": "correction", "quantities": [good]}
            body = await gql(c, SET, {"input": {**base, **inp}})
            return [(e["code"], e["field"]) for e in body["data"]["inventorySetQuantities"]["userErrors"]]

        assert await codes(reason="because", ignoreCompareQuantity=True) == [
            ("INVALID_REASON", ["input", "reason"])
        ]
        assert await codes(name="committed", ignoreCompareQuantity=True) == [
            ("INVALID_NAME", ["input", "name"])
        ]
        assert await codes() == [
            ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "compareQuantity"])
        ]
        other = {**good, "locationId": "gid://shopify/Location/1"}
        assert await codes(ignoreCompareQuantity=True, quantities=[good, other]) == [
            ("INVALID_LOCATION", ["input", "quantities", "1", "locationId"])
        ]
        assert await codes(ignoreCompareQuantity=True, quantities=[good, good]) == [
            ("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", ["input", "quantities", "1"])
        ]
        assert await codes(ignoreCompareQuantity=True, quantities=[{**good, "quantity": -1}]) == [
            ("INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "0", "quantity"])
        ]
        assert (await c.get("/_sandbox/listings", params={"sku": rows[0]["sku"]})).json()["listings"][0][
            "quantity"
        ] == rows[0]["quantity"]
        assert (await c.get("/_sandbox/effects")).json() == []


async def test_idempotency_key_reused_for_another_request_is_refused(tmp_path: Path) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        rows = (await c.get("/_sandbox/listings")).json()["listings"]
        q = {"inventoryItemId": rows[0]["inventory_item_id"], "locationId": LOCATION_GID}
        inp = {"name": "available", "reason": "correction", "ignoreCompareQuantity": True}
        first = await gql(
            c, SET, {"input": {**inp, "quantities": [{**q, "quantity": 3}]}}, **{"Idempotency-Key": "k"}
        )
        assert first["data"]["inventorySetQuantities"]["userErrors"] == []
        r = await c.post(
            GRAPHQL_PATH,
            json={"query": SET, "variables": {"input": {**inp, "quantities": [{**q, "quantity": 4}]}}},
            headers={"Idempotency-Key": "k"},
        )
        assert r.status_code == 422
        assert (await c.get("/_sandbox/listings", params={"sku": rows[0]["sku"]})).json()["listings"][0][
            "quantity"
        ] == 3


async def test_sandbox_answers_conform_to_the_official_schema(tmp_path: Path) -> None:
    """A query outside the adapter's documents: nested connections, interfaces, money bags."""
    require_spec()
    app = build_app(db_path=tmp_path / "s.db")
    async with client_for(app) as c:
        await c.post("/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 1})
        query = """query Q($loc: ID!) {
          shop { id name myshopifyDomain currencyCode }
          location { id name isActive }
          productVariants(first: 3, reverse: true, sortKey: SKU) {
            edges { cursor node { id title sku barcode price inventoryPolicy inventoryQuantity createdAt updatedAt
              product { id handle title vendor productType status tags descriptionHtml variantsCount { count }
                variants(first: 2) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }
              inventoryItem { id sku tracked variant { id }
                inventoryLevel(locationId: $loc) { id updatedAt location { id } item { id }
                  quantities(names: ["available", "on_hand", "committed"]) { id name quantity updatedAt } } } } }
          }
          orders(first: 5) { nodes { id name createdAt updatedAt cancelledAt cancelReason closed currencyCode
            displayFinancialStatus displayFulfillmentStatus sourceIdentifier
            totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
            lineItems(first: 5) { edges { cursor node { id sku title quantity currentQuantity variant { id sku }
              originalUnitPriceSet { shopMoney { amount currencyCode } } } } } } }
          nodes(ids: ["gid://shopify/Location/71234567890", "gid://shopify/Product/1"]) { __typename id }
        }"""
        body = await gql(c, query, {"loc": LOCATION_GID})
        assert "errors" not in body, body["errors"]
        assert response_errors(official_schema(), query, body["data"]) == []
        assert body["data"]["nodes"][1] is None
        skus = [e["node"]["sku"] for e in body["data"]["productVariants"]["edges"]]
        assert skus == sorted(skus, reverse=True)


@pytest.mark.parametrize("replace", [False, True])
async def test_bulk_seed(tmp_path: Path, replace: bool) -> None:
    app = build_app(db_path=tmp_path / "s.db")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as c:
        listings = [
            {
                "sku": f"B-{i}",
                "title": f"B {i}",
                "price": "2.50",
                "quantity": i,
                "identifiers": {"upc": f"{i:012d}"},
            }
            for i in range(2000)
        ]
        listings.append({"sku": "DEMO-MUG-02", "price": "1.00"})
        r = await c.post("/_sandbox/seed", json={"listings": listings, "replace": replace})
        assert r.json() == (
            {"seeded": 2001, "created": 2001, "skipped": 0}
            if replace
            else {"seeded": 2000, "created": 2000, "skipped": 1}
        )
        rows = (await c.get("/_sandbox/listings", params={"limit": 5000})).json()["listings"]
        assert len(rows) == (2001 if replace else 2000 + len(DEMO_PRODUCTS))
        b7 = next(x for x in rows if x["sku"] == "B-7")
        assert (b7["quantity"], b7["price"], b7["barcode"]) == (7, "2.50", "000000000007")
