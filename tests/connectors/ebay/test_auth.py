"""OAuth: refresh-token grant with Basic client auth, token cached until shortly before expiry, refresh on 401."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from connectors.errors import AuthError
from connectors.marketplace.ebay.adapter import SANDBOX_CREDENTIALS, EbayMarketplace
from connectors.marketplace.types import QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry


async def test_token_request_follows_ebay_refresh_grant(ebay, listings) -> None:
    await ebay.seed(listings(1))
    await ebay.adapter().list_listings()
    (token,) = ebay.exchanges("/identity/v1/oauth2/token")
    form = parse_qs(token.body.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [SANDBOX_CREDENTIALS["refresh_token"]]
    assert "https://api.ebay.com/oauth/api_scope/sell.inventory" in form["scope"][0].split()
    basic = token.request.headers["authorization"].removeprefix("Basic ")
    assert (
        base64.b64decode(basic).decode()
        == f"{SANDBOX_CREDENTIALS['client_id']}:{SANDBOX_CREDENTIALS['client_secret']}"
    )
    assert token.request.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_token_is_cached_across_calls(ebay, listings) -> None:
    await ebay.seed(listings(3))
    adapter = ebay.adapter()
    for _ in range(3):
        await adapter.list_listings()
    assert adapter.client.user_tokens.minted == 1
    assert len(ebay.exchanges("/oauth2/token")) == 1


async def test_revoked_token_is_refreshed_once_on_401(ebay, listings) -> None:
    await ebay.seed(listings(100))
    adapter = ebay.adapter()
    await adapter.list_listings()
    await ebay.call("POST", "/_sandbox/ebay/expire_tokens")
    # many concurrent calls all meet the 401; only one new token is minted
    result = await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=3) for i in range(100)], idempotency_key="a-1"
    )
    assert len(result.applied) == 100
    assert adapter.client.user_tokens.minted == 2
    assert 401 in [e.response.status_code for e in ebay.exchanges("/bulk_update_price_quantity")]
    assert ebay.exchanges("/bulk_update_price_quantity")[-1].response.status_code == 200


async def test_token_is_renewed_before_it_expires(ebay, listings) -> None:
    await ebay.seed(listings(1))
    adapter = ebay.adapter()
    now = [1000.0]
    adapter.client.user_tokens._clock = lambda: now[0]
    await adapter.list_listings()
    now[0] += 7200  # eBay's user tokens live two hours
    await adapter.list_listings()
    assert adapter.client.user_tokens.minted == 2
    assert 401 not in [e.response.status_code for e in ebay.capture.exchanges]


async def test_a_bad_refresh_token_is_a_non_retryable_auth_error(ebay) -> None:
    creds = {k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()}
    creds["refresh_token"] = SecretStr("revoked-by-seller")
    adapter = EbayMarketplace(
        account="x",
        base_url=ebay.base_url,
        credentials=creds,
        limiter=RateLimiterRegistry(enabled=False),
        http_transport=ebay.capture,
    )
    ebay.adapters.append(adapter)
    with pytest.raises(AuthError) as info:
        await adapter.list_listings()
    assert info.value.code == "invalid_grant" and not info.value.retryable
    assert len(ebay.exchanges("/oauth2/token")) == 1  # not retried
    assert "revoked-by-seller" not in str(info.value)
