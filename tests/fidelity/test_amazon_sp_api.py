"""The Amazon SP-API sandbox driven by python-amazon-sp-api (`sp_api`), the most used Python SP-API client.

Pointing it at the sandbox, without patching its internals: the client's `marketplace` argument is any object with
`endpoint`, `marketplace_id` and `region` (what its `Marketplaces` enum members carry), so a marketplace whose endpoint
is the sandbox's URL sends every SP-API call there; its `auth_token_client_class` argument takes a subclass of its
`AccessTokenClient` whose `scheme` / `host` name the sandbox's Login with Amazon endpoint. The client sends a `host`
header cut from the endpoint (`endpoint[8:]`, meant for https): the sandbox must not build URLs from it.
"""

from __future__ import annotations

import io
import json
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sp_api.api import Feeds, ListingsItems, Orders
from sp_api.auth import AccessTokenClient
from sp_api.auth import access_token_client as token_cache
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
)

from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS as CREDS
from tests.fidelity.conftest import RunningSandbox, wait_for

SELLER = CREDS["seller_id"]
MARKETPLACE_ID = "ATVPDKIKX0DER"


@pytest.fixture(scope="module")
def amazon(run_sandbox: Callable[[str], RunningSandbox]) -> RunningSandbox:
    return run_sandbox("amazon")


@pytest.fixture
def client(amazon: RunningSandbox) -> Iterator[Callable[..., Any]]:
    """`client(ListingsItems)` builds an sp_api client on the sandbox; each test starts with a fresh catalog."""
    SandboxTokens = type(
        "SandboxTokens",
        (AccessTokenClient,),
        {"scheme": "http://", "host": amazon.url.removeprefix("http://")},
    )

    marketplace = types.SimpleNamespace(
        endpoint=amazon.url, marketplace_id=MARKETPLACE_ID, region="us-east-1"
    )
    token_cache.cache.clear()  # tokens of an earlier sandbox (another module) mean nothing to this one
    amazon.control.put("/_sandbox/amazon/config", json={}).raise_for_status()  # default knobs
    made: list[Any] = []

    def make(api: type, *, refresh_token: str | None = None) -> Any:
        creds = {
            "lwa_app_id": CREDS["client_id"],
            "lwa_client_secret": CREDS["client_secret"],
            "refresh_token": refresh_token or CREDS["refresh_token"],
        }
        c = api(marketplace=marketplace, credentials=creds, auth_token_client_class=SandboxTokens)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def seed_catalog(amazon: RunningSandbox, n: int = 37) -> list[str]:
    """n listings; every fifth is sold out (DISCOVERABLE only, not BUYABLE)."""
    listings = [
        {
            "sku": f"FID-{i:03d}",
            "title": f"Fidelity item {i}",
            "price": "10" if i % 2 else "12.5",
            "quantity": 0 if i % 5 == 0 else 3,
            "identifiers": {"ean": f"40000000{i:05d}"},
        }
        for i in range(n)
    ]
    amazon.seed(listings)
    return [item["sku"] for item in listings]


def search_all(li: Any, **params: Any) -> list[dict[str, Any]]:
    """Follow pagination.nextToken to the end, as a client paging a seller's whole catalog does."""
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        extra = {"pageToken": token} if token else {}
        page = li.search_listings_items(sellerId=SELLER, pageSize=10, **params, **extra)
        items += page.payload["items"]
        token = (page.pagination or {}).get("nextToken")
        if not token:
            return items
    raise AssertionError("paging never ended")


def test_sign_in_with_lwa_and_a_bad_refresh_token_is_refused(client: Callable[..., Any]) -> None:
    li = client(ListingsItems)
    assert li.search_listings_items(sellerId=SELLER).payload["numberOfResults"] >= 0
    bad = client(ListingsItems, refresh_token="Atzr|not-a-real-token")
    with pytest.raises(AuthorizationError) as err:
        bad.search_listings_items(sellerId=SELLER)
    assert err.value.error_code == "invalid_grant"


def test_paging_to_the_end_returns_every_listing_once(
    amazon: RunningSandbox, client: Callable[..., Any]
) -> None:
    skus = seed_catalog(amazon)
    items = search_all(client(ListingsItems), sortBy="sku", sortOrder="ASC")
    assert [i["sku"] for i in items] == sorted(skus)


def test_search_filters_follow_the_model(amazon: RunningSandbox, client: Callable[..., Any]) -> None:
    skus = seed_catalog(amazon)
    li = client(ListingsItems)
    sold_out = {s for i, s in enumerate(skus) if i % 5 == 0}
    buyable = search_all(li, withStatus="BUYABLE")
    assert {i["sku"] for i in buyable} == set(skus) - sold_out
    assert all("BUYABLE" in i["summaries"][0]["status"] for i in buyable)
    assert {i["sku"] for i in search_all(li, withoutStatus="BUYABLE")} == sold_out
    next_year = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = li.search_listings_items(sellerId=SELLER, lastUpdatedAfter=next_year)
    assert page.payload["numberOfResults"] == 0 and page.payload["items"] == []
    assert len(search_all(li, createdBefore=next_year)) == len(skus)
    by_ean = li.search_listings_items(
        sellerId=SELLER, identifiersType="EAN", identifiers=["4000000000003", "4000000000007"]
    )
    assert sorted(i["sku"] for i in by_ean.payload["items"]) == ["FID-003", "FID-007"]
    with pytest.raises(SellingApiBadRequestException) as err:
        li.search_listings_items(sellerId=SELLER, withStatus="SOLD")
    assert err.value.code == 400 and err.value.error[0]["code"] == "InvalidInput"


def test_single_write_reads_back_with_prices_as_decimal_strings(
    amazon: RunningSandbox, client: Callable[..., Any]
) -> None:
    seed_catalog(amazon, 3)
    li = client(ListingsItems)
    item = li.get_listings_item(sellerId=SELLER, sku="FID-001", includedData=["offers"]).payload
    assert item["offers"][0]["price"] == {"currencyCode": "USD", "amount": "10.00"}
    answer = li.patch_listings_item(
        sellerId=SELLER,
        sku="FID-001",
        marketplaceIds=[MARKETPLACE_ID],
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/purchasable_offer",
                    "value": [{"currency": "USD", "our_price": [{"schedule": [{"value_with_tax": 14}]}]}],
                },
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}],
                },
            ],
        },
    ).payload
    assert answer["status"] == "ACCEPTED" and answer["issues"] == []
    back = li.get_listings_item(
        sellerId=SELLER, sku="FID-001", includedData=["offers", "fulfillmentAvailability"]
    ).payload
    assert back["offers"][0]["price"]["amount"] == "14.00"
    assert back["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 9}]
    invalid = li.patch_listings_item(
        sellerId=SELLER,
        sku="FID-001",
        marketplaceIds=[MARKETPLACE_ID],
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}],
                }
            ],
        },
    ).payload
    assert invalid["status"] == "INVALID" and invalid["issues"][0]["attributeNames"] == [
        "fulfillment_availability"
    ]


def test_accepted_writes_apply_later_when_processing_is_delayed(
    amazon: RunningSandbox, client: Callable[..., Any]
) -> None:
    seed_catalog(amazon, 3)
    # long enough that the read right after the answer is certainly earlier, even on a loaded machine
    amazon.control.put(
        "/_sandbox/amazon/config", json={"listings_processing_seconds": 4.0}
    ).raise_for_status()
    li = client(ListingsItems)
    answer = li.patch_listings_item(
        sellerId=SELLER,
        sku="FID-002",
        marketplaceIds=[MARKETPLACE_ID],
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 42}],
                }
            ],
        },
    ).payload
    assert answer["status"] == "ACCEPTED"

    def quantity() -> int:
        got = li.get_listings_item(sellerId=SELLER, sku="FID-002", includedData=["fulfillmentAvailability"])
        return int(got.payload["fulfillmentAvailability"][0]["quantity"])

    assert quantity() == 3  # accepted is not applied: the old value is still what shoppers see
    wait_for(quantity, lambda q: q == 42, what="the accepted patch to be applied")


def test_bulk_write_through_a_listings_feed(amazon: RunningSandbox, client: Callable[..., Any]) -> None:
    skus = seed_catalog(amazon, 30)
    feeds = client(Feeds)
    doc = {
        "header": {"sellerId": SELLER, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": n + 1,
                "sku": sku,
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 100 + n}],
                    }
                ],
            }
            for n, sku in enumerate(skus)
        ],
    }
    # the client uploads the document itself, to the presigned URL the sandbox answered (its own base URL)
    document, feed = feeds.submit_feed(
        "JSON_LISTINGS_FEED", io.StringIO(json.dumps(doc)), content_type="application/json; charset=UTF-8"
    )
    assert document.payload["url"].startswith(amazon.url + "/")
    feed_id = feed.payload["feedId"]
    done = wait_for(
        lambda: feeds.get_feed(feed_id).payload,
        lambda f: f["processingStatus"] in ("DONE", "FATAL"),
        what="the feed to be processed",
    )
    assert done["processingStatus"] == "DONE"
    report = json.loads(feeds.get_feed_result_document(done["resultFeedDocumentId"]))
    assert report["summary"]["messagesAccepted"] == len(skus) and report["summary"]["errors"] == 0
    back = search_all(
        client(ListingsItems), includedData=["fulfillmentAvailability"], sortBy="sku", sortOrder="ASC"
    )
    assert [i["fulfillmentAvailability"][0]["quantity"] for i in back] == [100 + n for n in range(len(skus))]


def test_orders_page_filter_and_read_one(amazon: RunningSandbox, client: Callable[..., Any]) -> None:
    seed_catalog(amazon, 5)
    start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bought = [amazon.buy("FID-001")["order_id"] for _ in range(3)]
    orders = client(Orders)
    seen: list[str] = []
    page = orders.get_orders(LastUpdatedAfter=start, MaxResultsPerPage=2)
    seen += [o["AmazonOrderId"] for o in page.payload["Orders"]]
    while page.next_token:
        page = orders.get_orders(NextToken=page.next_token)
        seen += [o["AmazonOrderId"] for o in page.payload["Orders"]]
    assert sorted(seen) == sorted(bought)
    assert orders.get_orders(CreatedAfter=start, OrderStatuses=["Shipped"]).payload["Orders"] == []
    one = orders.get_order(bought[0]).payload
    assert one["AmazonOrderId"] == bought[0] and one["OrderStatus"] == "Unshipped"
    assert one["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "10.00"}
    items = orders.get_order_items(bought[0]).payload["OrderItems"]
    assert [(i["SellerSKU"], i["QuantityOrdered"], i["ItemPrice"]["Amount"]) for i in items] == [
        ("FID-001", 1, "10.00")
    ]


def test_every_error_is_an_error_list_the_client_raises(
    amazon: RunningSandbox, client: Callable[..., Any]
) -> None:
    seed_catalog(amazon, 2)
    li, orders = client(ListingsItems), client(Orders)
    with pytest.raises(SellingApiNotFoundException) as missing_order:
        orders.get_order("999-0000000-0000000")
    assert missing_order.value.error[0]["code"] == "NotFound"
    with pytest.raises(SellingApiNotFoundException):
        li.get_listings_item(sellerId=SELLER, sku="NO-SUCH-SKU")
    with pytest.raises(SellingApiForbiddenException):
        li.search_listings_items(sellerId="A-STRANGER")
    with pytest.raises(SellingApiBadRequestException):
        li.search_listings_items(sellerId=SELLER, pageSize=50)
    # an unknown path and a wrong method answer in the same shape, never FastAPI's {"detail": ...}
    for method, path in (("GET", "/orders/v0/nowhere/at/all"), ("POST", "/orders/v0/orders")):
        r = amazon.control.request(method, path)
        assert r.status_code in (404, 405) and set(r.json()) == {"errors"}, r.text
        assert r.json()["errors"][0]["code"] in ("NotFound", "MethodNotAllowed")
