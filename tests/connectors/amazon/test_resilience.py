"""Failure handling: 429 waits the advertised time, 5xx and timeouts are retried, validation and bad credentials are
not, LWA tokens are refreshed before expiry and after revocation, lost answers are not applied twice."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from connectors.errors import AuthError, ServerError, ValidationError
from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS
from connectors.marketplace.amazon.client import classify
from connectors.marketplace.types import ListingDraft, ProductIdentifier
from tests.connectors.amazon.conftest import AmazonEnv
from tests.support.waiting import until


def restore_after_first(env: AmazonEnv, status: int | None):  # type: ignore[no-untyped-def]
    """After-hook: the first answer with `status` (None: the first transport error) switches the faults off."""
    fired = {"done": False}

    def hook(_request: httpx.Request, response: httpx.Response | None) -> None:
        got = response.status_code if response is not None else None
        if not fired["done"] and got == status:
            fired["done"] = True
            env.faults()

    return hook


async def test_429_waits_the_advertised_time(amazon: AmazonEnv) -> None:
    """getCompetitivePricing allows 0.5 req/s with a burst of 1: the second immediate call is refused by the sandbox
    (client-side limiting off here) and the adapter retries only after the Retry-After it was given."""
    amazon.faults(rate_limits=True)
    mp, rec = amazon.adapter(rate_limits=False)
    ident = [ProductIdentifier(type="asin", value="B0DEMO0010")]
    assert await mp.competitive_prices(ident)
    assert await mp.competitive_prices(ident)
    calls = rec.calls("GET", "/products/pricing/v0/competitivePrice")
    assert [c.status for c in calls] == [200, 429, 200]
    refused = calls[1]
    assert refused.response_headers["content-type"].startswith("application/json")
    advertised = float(refused.response_headers["retry-after"])
    assert advertised >= 1
    assert calls[2].sent_at - refused.received_at >= advertised - 0.05  # type: ignore[operator]


async def test_client_side_limits_pace_requests(amazon: AmazonEnv) -> None:
    """With client-side limiting on, the second call is only sent once the published plan (0.5 req/s) allows it."""
    mp, rec = amazon.adapter(rate_limits=True)
    ident = [ProductIdentifier(type="asin", value="B0DEMO0010")]
    await mp.competitive_prices(ident)
    await mp.competitive_prices(ident)
    first, second = rec.calls("GET", "/products/pricing/")
    assert second.sent_at - first.sent_at >= 1 / 0.5


async def test_rate_limit_header_updates_the_bucket(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter(rate_limits=True)

    def applied_plan(_request: httpx.Request, response: httpx.Response | None) -> None:
        if response is not None and "x-amzn-ratelimit-limit" in response.headers:
            response.headers["x-amzn-ratelimit-limit"] = "7.5"  # this seller was granted a higher plan

    rec.after.append(applied_plan)
    await mp.list_listings()
    assert mp.api.bucket("searchListingsItems").rate == pytest.approx(7.5 * 0.99)


def test_429_without_retry_after_waits_one_token_of_the_plan() -> None:
    response = httpx.Response(
        429,
        headers={"x-amzn-RateLimit-Limit": "0.5"},
        json={
            "errors": [
                {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}
            ]
        },
    )
    err = classify(response, "getCompetitivePricing")
    assert err is not None and err.retryable and err.retry_after == 2.0 and err.code == "QuotaExceeded"


async def test_5xx_is_retried(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter()
    await mp.lwa.token()
    amazon.faults(error_rate=1.0)
    rec.after.append(restore_after_first(amazon, 503))
    page = await mp.list_listings()
    assert page.items
    assert [c.status for c in rec.calls("GET", "/listings/")] == [503, 200]
    assert b"ServiceUnavailable" in rec.calls("GET", "/listings/")[0].response_body


async def test_validation_error_is_not_retried(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter()
    with pytest.raises(ValidationError) as err:
        await mp.list_listings("not-a-page-token")
    assert err.value.status == 400 and err.value.code == "InvalidInput"
    assert len(rec.calls("GET", "/listings/")) == 1


async def test_token_refreshed_before_it_expires(amazon: AmazonEnv) -> None:
    amazon.sbx.knobs.token_ttl_seconds = 1
    mp, rec = amazon.adapter()
    await mp.list_listings()
    await until(lambda: not mp.lwa._valid(), what="the 1 s token to be due for refresh")
    await mp.list_listings()
    assert amazon.sbx.tokens_issued == 2
    assert [c.status for c in rec.calls("GET", "/listings/")] == [200, 200]  # never sent an expired token
    assert len(rec.calls("POST", "/auth/o2/token")) == 2


async def test_token_refreshed_after_unauthorized(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter()
    await mp.list_listings()
    async with amazon.admin() as c:
        await c.post("/_sandbox/amazon/tokens/revoke")
    await mp.list_listings()
    sequence = [(e.method, e.path.split("/")[1], e.status) for e in rec.exchanges]
    assert sequence == [
        ("POST", "auth", 200),
        ("GET", "listings", 200),
        ("GET", "listings", 403),
        ("POST", "auth", 200),
        ("GET", "listings", 200),
    ]
    assert b"Unauthorized" in rec.exchanges[2].response_body


async def test_wrong_refresh_token_is_an_auth_error(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter(credentials={**SANDBOX_CREDENTIALS, "refresh_token": "Atzr|revoked"})
    with pytest.raises(AuthError) as err:
        await mp.list_listings()
    assert err.value.code == "invalid_grant" and not err.value.retryable
    assert len(rec.exchanges) == 1
    assert "Atzr" not in str(err.value)  # no secret in the error


async def test_lost_put_answer_is_not_resent_nor_applied_twice(amazon: AmazonEnv) -> None:
    """Applied, then 504: the transport does not resend the write (its outcome is unknown) and says so; the caller's
    retry (here: the same call again, as a Temporal activity retry would) converges without applying anything twice."""
    mp, rec = amazon.adapter()
    await mp.lwa.token()
    amazon.faults(lost_response_rate=1.0)
    rec.after.append(restore_after_first(amazon, 504))
    draft = ListingDraft(sku="LOST-1", title="Lamp", price=Decimal("20.00"), quantity=4)
    with pytest.raises(ServerError) as err:
        await mp.create_listing(draft, idempotency_key="lost-put")
    assert err.value.outcome_unknown and err.value.retryable
    assert [c.status for c in rec.calls("PUT", "/listings/")] == [504]
    result = await mp.create_listing(draft, idempotency_key="lost-put")
    assert result.status == "applied"
    assert [c.status for c in rec.calls("PUT", "/listings/")] == [504, 200]
    assert await amazon.duplicates() == []
    async with amazon.admin() as c:
        requests = (
            await c.get("/_sandbox/requests", params={"path": "/listings/", "mutating": "true"})
        ).json()
        effects = (await c.get("/_sandbox/effects", params={"entity": "listing:LOST-1"})).json()
    assert [r["idempotency_key"] for r in requests] == ["lost-put", "lost-put"]
    assert sorted(e["field"] for e in effects) == ["price", "quantity", "status", "title"]  # each once


async def test_timeout_is_retried(live_amazon: AmazonEnv) -> None:
    """A real server that hangs: the client times out (TransportError) and retries."""
    mp, rec = live_amazon.adapter(timeout_seconds=1.0)
    await mp.list_listings()  # token first, so the hang hits the SP-API call
    live_amazon.faults(timeout_rate=1.0, timeout_seconds=3.0)
    rec.after.append(restore_after_first(live_amazon, None))
    page = await mp.list_listings()
    assert page.items
    calls = rec.calls("GET", "/listings/")
    assert [(c.status, c.error) for c in calls[1:]] == [(None, "ReadTimeout"), (200, None)]
