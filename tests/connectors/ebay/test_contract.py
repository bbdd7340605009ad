"""Contract tests against eBay's Sell Inventory OpenAPI document (../shared/specs/ebay/sell_inventory_v1_oas3.json).

Every exchange of every test in this package is validated after the test (conftest `_assert_contract`); these tests
make sure the check covers every Inventory operation the adapter uses, that it has teeth, and that the sandbox's
error answers have eBay's shape.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connectors.marketplace.types import ListingDraft, PriceUpdate, QuantityUpdate
from tests.connectors.ebay.conftest import SPEC_MISSING
from tests.connectors.ebay.contract import UNSPECIFIED_PREFIXES, Exchange

ADAPTER_OPERATIONS = {
    "getInventoryItems",
    "createOrReplaceInventoryItem",
    "bulkCreateOrReplaceInventoryItem",
    "bulkUpdatePriceQuantity",
    "getOffers",
    "createOffer",
    "updateOffer",
    "publishOffer",
    "withdrawOffer",
}


@pytest.fixture
def spec(ebay_spec):
    if ebay_spec is None:
        pytest.skip(SPEC_MISSING)
    return ebay_spec


async def exercise(ebay, listings) -> None:
    await ebay.seed(listings(30))
    await ebay.config(concurrent_access_skus=["SKU-000004"])
    adapter = ebay.adapter()
    page = await adapter.list_listings(page_size=20)
    await adapter.list_listings(page.next_cursor)
    await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=i) for i in range(30)]
        + [QuantityUpdate(sku="X", quantity=1)],
        idempotency_key="k",
    )
    await adapter.set_prices([PriceUpdate(sku="SKU-000001", price=Decimal("3.30"))], idempotency_key="p")
    d = ListingDraft(
        sku="NEW-9", title="t", price=Decimal("2.50"), quantity=1, identifiers={"ean": "4006381333931"}
    )
    await adapter.create_listing(d, idempotency_key="c")
    await adapter.update_listing(d.model_copy(update={"price": Decimal("2.75")}), idempotency_key="u")
    await adapter.end_listing("NEW-9", idempotency_key="e")
    await adapter.bulk_create_or_replace_items([d.model_copy(update={"sku": "NEW-10"})], idempotency_key="b")
    await adapter.list_orders()


async def test_every_inventory_operation_the_adapter_uses_is_checked(ebay, spec, listings) -> None:
    await exercise(ebay, listings)
    covered = [e for e in ebay.capture.exchanges if spec.covers(e.request)]
    used = {spec.operation_of(e.request) for e in covered}
    assert None not in used, "a request to a path the document does not describe"
    assert used == ADAPTER_OPERATIONS
    problems = [p for e in covered for p in spec.check(e)]
    assert problems == []
    # calls outside the Sell Inventory document are only to APIs whose descriptions we do not have
    others = {e.request.url.path for e in ebay.capture.exchanges if not spec.covers(e.request)}
    assert all(p.startswith(UNSPECIFIED_PREFIXES) for p in others), others
    assert {207, 200, 204, 201, 404} <= {e.response.status_code for e in covered}


def _exchange(method: str, path: str, body: object, status: int, answer: object, **headers: str) -> Exchange:
    sent = {"authorization": "Bearer t", "content-language": "en-US", **headers}
    request = httpx.Request(
        method, f"http://127.0.0.1:1{path}", json=body, headers={k: v for k, v in sent.items() if v}
    )
    content = json.dumps(answer).encode() if answer is not None else b""
    response = httpx.Response(status, content=content, headers={"content-type": "application/json"})
    return Exchange(request, request.read(), response, content)


def test_the_check_refuses_what_ebay_would_not_understand(spec) -> None:
    ok = _exchange(
        "POST",
        "/sell/inventory/v1/bulk_update_price_quantity",
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 1}}]},
        200,
        {"responses": [{"sku": "A", "statusCode": 200}]},
    )
    assert spec.check(ok) == []
    typo = _exchange(
        "POST",
        "/sell/inventory/v1/bulk_update_price_quantity",
        {"requests": [{"sku": "A", "shipToLocationAvailabilty": {"quantity": 1}}]},  # misspelt field
        200,
        {"responses": []},
    )
    assert any("request" in v.problem for v in spec.check(typo))
    wrong_type = _exchange(
        "POST",
        "/sell/inventory/v1/bulk_update_price_quantity",
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": "1"}}]},
        200,
        {"responses": []},
    )
    assert spec.check(wrong_type)
    no_language = _exchange(
        "PUT", "/sell/inventory/v1/inventory_item/A", {}, 204, None, **{"content-language": ""}
    )
    assert any("Content-Language" in v.problem for v in spec.check(no_language))
    bad_answer = _exchange(
        "POST",
        "/sell/inventory/v1/bulk_update_price_quantity",
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 1}}]},
        207,
        {"responses": [{"sku": "A", "statusCode": "400"}]},  # statusCode must be an integer
    )
    assert any("207 body" in v.problem for v in spec.check(bad_answer))
    no_slash = _exchange("POST", "/sell/inventory/v1/offer/1/publish", None, 200, {"listingId": "1"})
    assert spec.check(no_slash)  # eBay's path ends with a slash


async def test_sandbox_error_answers_have_ebays_shape(ebay, spec, listings) -> None:
    await ebay.seed(listings(1))
    adapter = ebay.adapter()
    token = await adapter.client.user_tokens.token()
    auth = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=ebay.capture, base_url=ebay.base_url) as c:
        r404 = await c.get("/sell/inventory/v1/inventory_item/NOPE", headers=auth)
        r400 = await c.get("/sell/inventory/v1/inventory_item", params={"limit": "0"}, headers=auth)
        r401 = await c.get("/sell/inventory/v1/inventory_item", headers={"authorization": "Bearer nope"})
        bad_body = await c.post(
            "/sell/inventory/v1/offer",
            json={"sku": "SKU-000000", "marketplaceId": "EBAY_US", "format": "FIXED_PRICE"},
            headers={**auth, "content-language": "en-US"},
        )
        await ebay.faults(error_rate=1.0)
        r503 = await c.get("/sell/inventory/v1/inventory_item", headers=auth)
        await ebay.faults(error_rate=0.0, rate_429=1.0)
        r429 = await c.get("/sell/inventory/v1/inventory_item", headers=auth)
        await ebay.faults(rate_429=0.0)
    assert [r.status_code for r in (r404, r400, r401, bad_body, r503, r429)] == [404, 400, 401, 400, 503, 429]
    assert r404.json()["errors"][0]["errorId"] == 25710
    assert r401.json()["errors"][0]["errorId"] == 1001
    assert bad_body.json()["errors"][0]["errorId"] == 25002  # the seeded SKU already has an offer
    assert bad_body.json()["errors"][0]["parameters"][0]["name"] == "offerId"
    assert r429.json()["errors"][0]["errorId"] == 2001 and "retry-after" in r429.headers
    covered = [e for e in ebay.capture.exchanges if spec.covers(e.request)]
    assert len(covered) == 6
    assert [p for e in covered for p in spec.check(e)] == []
    # the envelope check has teeth: an error body without eBay's fields is refused
    assert spec._check_error_envelope("x", b'{"detail": "Not Found"}')
