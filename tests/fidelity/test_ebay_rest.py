"""The eBay sandbox driven by ebay_rest (`ebay-rest`), the maintained Python wrapper of eBay's REST APIs, with the
OAuth refresh grant done by Authlib.

Pointing it at the sandbox, without patching its internals: ebay_rest's facade (`ebay_rest.API`) derives its host
from the keyset (production, or api.sandbox.ebay.com for SBX- keys) and cannot take a base URL, so these tests use the
layer it is built on and ships as public packages: the Swagger-generated client of each API
(`ebay_rest.api.sell_inventory`, `ebay_rest.api.sell_fulfillment`), whose `Configuration.host` is the supported
base-URL option (the facade sets the same attribute) and whose `Configuration.access_token` carries the OAuth token.
The token comes from Authlib's `OAuth2Session.refresh_token` against the sandbox's `/identity/v1/oauth2/token`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from ebay_rest.api import sell_fulfillment, sell_inventory
from ebay_rest.api.sell_fulfillment.rest import ApiException as FulfillmentError
from ebay_rest.api.sell_inventory.rest import ApiException as InventoryError

from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS as CREDS
from tests.fidelity.conftest import RunningSandbox

JSON = "application/json"


@pytest.fixture(scope="module")
def ebay(run_sandbox: Callable[[str], RunningSandbox]) -> RunningSandbox:
    return run_sandbox("ebay")


def user_token(ebay: RunningSandbox, refresh_token: str = CREDS["refresh_token"]) -> str:
    session = OAuth2Session(
        CREDS["client_id"], CREDS["client_secret"], token_endpoint_auth_method="client_secret_basic"
    )
    token = session.refresh_token(
        ebay.url + "/identity/v1/oauth2/token",
        refresh_token=refresh_token,
        scope="https://api.ebay.com/oauth/api_scope/sell.inventory",
    )
    return str(token["access_token"])


@pytest.fixture
def inventory(ebay: RunningSandbox) -> Any:
    cfg = sell_inventory.Configuration()
    cfg.host = ebay.url + "/sell/inventory/v1"
    cfg.access_token = user_token(ebay)
    return sell_inventory.ApiClient(cfg)


@pytest.fixture
def fulfillment(ebay: RunningSandbox) -> Any:
    cfg = sell_fulfillment.Configuration()
    cfg.host = ebay.url + "/sell/fulfillment/v1"
    cfg.access_token = user_token(ebay)
    return sell_fulfillment.OrderApi(sell_fulfillment.ApiClient(cfg))


def seed(ebay: RunningSandbox, n: int) -> list[str]:
    skus = [f"EB-{i:03d}" for i in range(n)]
    ebay.seed([{"sku": s, "title": f"Item {s}", "price": "20.00", "quantity": 4} for s in skus])
    return skus


def error_of(exc: Exception) -> dict[str, Any]:
    body = json.loads(exc.body)  # type: ignore[attr-defined]
    assert set(body) == {"errors"}, body
    return dict(body["errors"][0])


def test_oauth_refresh_grant_and_a_missing_token(ebay: RunningSandbox, inventory: Any) -> None:
    with pytest.raises(OAuthError) as err:
        user_token(ebay, refresh_token="v^1.1#not-a-refresh-token")
    assert err.value.error == "invalid_grant"
    cfg = sell_inventory.Configuration()
    cfg.host = ebay.url + "/sell/inventory/v1"
    cfg.access_token = "v^1.1#forged"
    with pytest.raises(InventoryError) as denied:
        sell_inventory.InventoryItemApi(sell_inventory.ApiClient(cfg)).get_inventory_items()
    assert denied.value.status == 401
    assert error_of(denied.value)["errorId"] == 1001 and error_of(denied.value)["longMessage"]


def test_paging_follows_next_to_the_end_and_limits_above_100_are_refused(
    ebay: RunningSandbox, inventory: Any
) -> None:
    skus = seed(ebay, 130)
    api = sell_inventory.InventoryItemApi(inventory)
    seen: list[str] = []
    params = {"limit": "100", "offset": "0"}
    for _ in range(10):
        page = api.get_inventory_items(**params)
        seen += [item.sku for item in page.inventory_items]
        if not page.next:
            break
        params = {k: v[0] for k, v in parse_qs(urlsplit(page.next).query).items()}
    assert sorted(seen) == skus and page.total == 130
    for limit in ("150", "200"):
        with pytest.raises(InventoryError) as err:
            api.get_inventory_items(limit=limit)
        error = error_of(err.value)
        assert err.value.status == 400 and error["errorId"] == 25706 and "100" in error["longMessage"]


def test_single_write_then_read_back(ebay: RunningSandbox, inventory: Any) -> None:
    seed(ebay, 2)
    api = sell_inventory.InventoryItemApi(inventory)
    body = {
        "condition": "NEW",
        "product": {"title": "Enamel Mug", "description": "Blue", "upc": ["012345678905"]},
        "availability": {"shipToLocationAvailability": {"quantity": 7}},
    }
    api.create_or_replace_inventory_item(body, "en-US", JSON, "EB-NEW")
    item = api.get_inventory_item("EB-NEW")
    assert (
        item.product.title == "Enamel Mug" and item.availability.ship_to_location_availability.quantity == 7
    )
    offers = sell_inventory.OfferApi(inventory).get_offers(sku="EB-000")
    assert offers.offers[0].pricing_summary.price.value == "20.00"
    with pytest.raises(InventoryError) as err:
        api.get_inventory_item("EB-NOPE")
    assert err.value.status == 404 and error_of(err.value)["longMessage"]


def test_bulk_price_and_quantity_update_then_read_back(ebay: RunningSandbox, inventory: Any) -> None:
    skus = seed(ebay, 25)
    offer_api = sell_inventory.OfferApi(inventory)
    offer_ids = {s: offer_api.get_offers(sku=s).offers[0].offer_id for s in skus}
    requests = [
        {
            "sku": s,
            "shipToLocationAvailability": {"quantity": n},
            "offers": [{"offerId": offer_ids[s], "price": {"value": f"{30 + n}.50", "currency": "USD"}}],
        }
        for n, s in enumerate(skus)
    ]
    answer = sell_inventory.InventoryItemApi(inventory).bulk_update_price_quantity(
        {"requests": requests}, JSON
    )
    assert {r.status_code for r in answer.responses} == {200}
    for n, s in enumerate(skus):
        truth = ebay.truth(s)
        assert (truth["quantity"], truth["price"]) == (n, f"{30 + n}.50")
    assert offer_api.get_offers(sku=skus[3]).offers[0].pricing_summary.price.value == "33.50"


def test_orders_page_filter_and_carry_the_fulfillment_fields(ebay: RunningSandbox, fulfillment: Any) -> None:
    seed(ebay, 2)
    start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    bought = [ebay.buy("EB-001")["order_id"] for _ in range(3)]
    seen: list[str] = []
    offset = 0
    while True:
        page = fulfillment.get_orders(filter=f"lastmodifieddate:[{start}..]", limit="2", offset=str(offset))
        seen += [o.order_id for o in page.orders]
        if not page.next:
            break
        offset += 2
    assert sorted(seen) == sorted(bought)
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert fulfillment.get_orders(filter=f"creationdate:[{future}..]").total == 0
    order = fulfillment.get_order(bought[0])
    ship_to = order.fulfillment_start_instructions[0].shipping_step.ship_to
    assert ship_to.full_name and ship_to.contact_address.country_code == "US"
    assert order.payment_summary.total_due_seller.value == "20.00"
    assert order.payment_summary.payments[0].payment_status == "PAID"
    assert order.sales_record_reference and order.line_items[0].sku == "EB-001"
    with pytest.raises(FulfillmentError) as err:
        fulfillment.get_order("99-99999-99999")
    assert err.value.status == 404 and error_of(err.value)["longMessage"]
