"""Throttling (cost budget, THROTTLED, 429 + Retry-After), 5xx retries, errors that are not retried, token refresh."""

from __future__ import annotations

import random

import httpx
import pytest
from pydantic import SecretStr

from connectors.errors import AuthError, RateLimited, ValidationError
from connectors.marketplace.shopify.adapter import ShopifyMarketplace
from connectors.marketplace.shopify.documents import Document
from connectors.marketplace.types import QuantityUpdate
from tests.connectors.shopify.conftest import Recorder, account, seed


def seed_for(first_below: float, then_at_least: float, rolls_per_request: int = 2) -> int:
    """A fault seed whose first request rolls below `first_below` and the next one not: one fault, then success.
    Each mutating request that passes the fault roll draws a second number (the lost-response roll)."""
    for s in range(10_000):
        r = random.Random(s)
        a, b = r.random(), r.random()
        if a < first_below and b >= then_at_least:
            return s
    raise AssertionError("no seed")


def throttled(recorder: Recorder) -> list[dict]:  # type: ignore[type-arg]
    return [
        e.response
        for e in recorder.graphql()
        if isinstance(e.response, dict)
        and any(
            err.get("extensions", {}).get("code") == "THROTTLED" for err in e.response.get("errors") or []
        )
    ]


async def test_throttled_answers_wait_for_the_bucket_and_succeed(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """Client-side limiting off: the shop's THROTTLED answer (HTTP 200) alone paces the adapter."""
    skus = await seed(control, 10)
    a: ShopifyMarketplace = make_adapter(limits=False)
    await a.list_listings(page_size=20)
    await control.put("/_sandbox/faults", json={"rate_limits": True})
    await control.put("/_sandbox/shopify/bucket", json={"available": 0})
    result = await a.set_quantities([QuantityUpdate(sku=s, quantity=2) for s in skus], idempotency_key="thr")
    assert {o.status for o in result.outcomes} == {"applied"}
    answers = throttled(recorder)
    assert answers, "the drained bucket should have throttled the first attempt"
    status = answers[0]["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 1000 and status["restoreRate"] == 100
    assert answers[0]["extensions"]["cost"]["actualQueryCost"] is None  # nothing executed, nothing charged
    assert (await control.get("/_sandbox/effects/duplicates")).json() == []


async def test_throttle_status_feeds_the_client_bucket(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """Client-side limiting on: after learning the shop's budget from one answer, the adapter waits on its own
    bucket instead of being throttled again, even with several chunks in flight."""
    await seed(control, 1000)
    rows = [
        r
        for r in (await control.get("/_sandbox/listings", params={"limit": 2000})).json()["listings"]
        if r["sku"].startswith("SKU-")
    ]
    a: ShopifyMarketplace = make_adapter(limits=True, quantities_per_call=50, concurrency=4)
    await a.list_listings(page_size=10)
    await control.put("/_sandbox/faults", json={"rate_limits": True})
    await control.put("/_sandbox/shopify/bucket", json={"available": 0})
    before = len(recorder.graphql())
    updates = [
        QuantityUpdate(sku=r["sku"], quantity=1, external_variant_id=r["inventory_item_id"]) for r in rows
    ]
    result = await a.set_quantities(
        updates, idempotency_key="fed"
    )  # 20 calls x 10 points from an empty bucket
    assert {o.status for o in result.outcomes} == {"applied"}
    calls = recorder.graphql()[before:]
    writes = [e for e in calls if e.request["operationName"] == "MerchflowSetQuantities"]
    assert len([e for e in writes if "data" in e.response]) == 20
    assert len(throttled(recorder)) <= 4  # at most the requests already in flight when the budget was learnt
    assert a.gql.bucket.burst == 1000 and a.gql.bucket.rate == 100
    assert (
        a.gql.bucket.tokens
        <= writes[-1].response["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    )


async def test_persistent_throttling_gives_up_as_rate_limited(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter(limits=False)
    a.gql.max_throttled = 0  # give up at the first THROTTLED answer (the default waits up to 12 times)
    await a.list_listings(page_size=10)
    await control.put("/_sandbox/faults", json={"rate_limits": True})
    await control.put("/_sandbox/shopify/bucket", json={"available": 0})
    with pytest.raises(RateLimited) as info:
        await a.list_listings(page_size=199)  # 2 + 199 x 5 = 997 points
    assert info.value.retryable and info.value.code == "THROTTLED"
    assert info.value.retry_after == pytest.approx(9.97, abs=0.1)  # what the shop's restore rate needs


async def test_http_429_waits_the_advertised_retry_after(make_adapter, control: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 3)
    a: ShopifyMarketplace = make_adapter()
    await a.list_listings(page_size=20)
    await control.put(
        "/_sandbox/faults",
        json={"rate_429": 0.5, "retry_after_seconds": 1, "seed": seed_for(0.5, 0.5), "rate_limits": False},
    )
    result = await a.set_quantities([QuantityUpdate(sku=s, quantity=4) for s in skus], idempotency_key="429")
    assert {o.status for o in result.outcomes} == {"applied"}
    reqs = (await control.get("/_sandbox/requests", params={"mutating": "true"})).json()
    assert [r["status"] for r in reqs] == [429, 200]
    assert reqs[1]["at"] - reqs[0]["at"] >= 0.95  # the advertised second was waited, not a quick backoff


async def test_a_server_error_on_a_mutation_is_not_resent(make_adapter, control: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    """2025-01 has no idempotency key: a mutation answered 5xx may have been applied, so the transport does not send
    it again; the items fail retryably and the caller's next call (with current values) applies them."""
    skus = await seed(control, 3)
    a: ShopifyMarketplace = make_adapter()
    await a.list_listings(page_size=20)
    await control.put(
        "/_sandbox/faults", json={"error_rate": 0.5, "seed": seed_for(0.5, 0.5), "rate_limits": False}
    )
    updates = [QuantityUpdate(sku=s, quantity=6) for s in skus]
    result = await a.set_quantities(updates, idempotency_key="5xx")
    assert [(o.status, o.code) for o in result.outcomes] == [("failed", "ServerError")] * 3

    async def mutating() -> list[int]:
        return [
            r["status"] for r in (await control.get("/_sandbox/requests", params={"mutating": "true"})).json()
        ]

    assert await mutating() == [503]
    again = await a.set_quantities(updates, idempotency_key="5xx:2")
    assert {o.status for o in again.outcomes} == {"applied"}
    assert await mutating() == [503, 200]


async def test_persistent_server_errors_become_failed_outcomes(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 2)
    a: ShopifyMarketplace = make_adapter(max_retries=1)
    await a.list_listings(page_size=20)
    await control.put("/_sandbox/faults", json={"error_rate": 1.0, "rate_limits": False})
    result = await a.set_quantities([QuantityUpdate(sku=s, quantity=6) for s in skus], idempotency_key="down")
    assert [(o.status, o.code) for o in result.outcomes] == [("failed", "ServerError")] * 2
    assert all(o.retryable for o in result.outcomes)


async def test_validation_errors_are_not_retried(make_adapter, recorder: Recorder) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter()
    await a.list_listings(page_size=5)
    before = len(recorder.exchanges)
    with pytest.raises(ValidationError) as info:
        await a.gql.execute(Document("Broken", "query Broken { shop { noSuchField } }", cost=1))
    assert not info.value.retryable and info.value.code == "GRAPHQL_VALIDATION_FAILED"
    assert len(recorder.exchanges) - before == 1
    recorder.exchanges = recorder.exchanges[
        :before
    ]  # not an adapter document: keep it out of the contract check


async def test_expired_token_is_refreshed_once_and_the_call_succeeds(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    a: ShopifyMarketplace = make_adapter()
    await a.list_listings(page_size=5)
    assert (await control.post("/_sandbox/shopify/expire-tokens")).json()["expired"] == 1
    page = await a.list_listings(page_size=5)
    assert page.items
    paths = [(e.path, e.status) for e in recorder.exchanges]
    assert paths.count(("/admin/oauth/access_token", 200)) == 2
    assert ("/admin/api/2025-01/graphql.json", 401) in paths
    token_request = next(e for e in recorder.exchanges if e.path == "/admin/oauth/access_token")
    assert "x-shopify-access-token" not in token_request.headers


async def test_rejected_static_token_without_client_credentials_is_an_auth_error(make_adapter) -> None:  # type: ignore[no-untyped-def]
    cfg = account()
    cfg.credentials = {"access_token": SecretStr("shpat_not_a_real_token")}
    a: ShopifyMarketplace = make_adapter(cfg=cfg)
    with pytest.raises(AuthError) as info:
        await a.list_listings()
    assert not info.value.retryable


async def test_wrong_client_secret_is_an_auth_error(make_adapter) -> None:  # type: ignore[no-untyped-def]
    cfg = account()
    cfg.credentials = {
        "client_id": SecretStr("merchflow-sandbox-client-id"),
        "client_secret": SecretStr("wrong"),
    }
    a: ShopifyMarketplace = make_adapter(cfg=cfg)
    with pytest.raises(AuthError) as info:
        await a.list_listings()
    assert info.value.code == "invalid_client"
    assert "wrong" not in str(info.value)
