"""Thin typed-ish calls to eBay endpoints: paths, headers, auth and rate-limit buckets; no business decisions.

Paths are absolute from the API host (https://api.ebay.com), so one httpx client serves Sell Inventory,
Fulfillment, Browse, Post-Order and the OAuth endpoint, and pointing it at the sandbox is a base-URL change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from connectors.http import HttpTransport
from connectors.marketplace.ebay.auth import APP_SCOPES, USER_SCOPES, Grant, TokenSource
from connectors.marketplace.ebay.errors import OFFER_NOT_AVAILABLE, classify, error_list
from connectors.marketplace.ebay.limits import DEFAULT_DAILY_LIMITS, limit_for
from connectors.ratelimit import RateLimiterRegistry, TokenBucket

INVENTORY = "/sell/inventory/v1"
FULFILLMENT = "/sell/fulfillment/v1"
BROWSE = "/buy/browse/v1"
POST_ORDER = "/post-order/v2"
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a URL path, not a secret
# eBay's Inventory API takes no idempotency key, so a write whose answer was lost is never resent (a replay of an
# absolute value can undo a newer one; connectors/http.py). We still send our key in a header eBay ignores so the
# sandbox (and any proxy log) can tie requests to one logical change.
IDEMPOTENCY_HEADER = "x-merchflow-idempotency-key"
# The Post-Order API predates the REST marketplace ids and spells them with a hyphen (and UK, not GB).
POST_ORDER_SITES = {"EBAY_GB": "EBAY-UK", "EBAY_MOTORS_US": "EBAY-MOTOR"}


def _sku_path(sku: str) -> str:
    return quote(sku, safe="")


class EbayClient:
    def __init__(
        self,
        *,
        account: str,
        base_url: str,
        credentials: Mapping[str, SecretStr],
        options: Mapping[str, Any],
        limiter: RateLimiterRegistry,
        timeout: float = 30.0,
        user_agent: str = "merchflow/0.1",
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options
        self.content_language = str(options.get("content_language", "en-US"))
        self.marketplace_id = str(options.get("marketplace_id", "EBAY_US"))
        self.http = HttpTransport(
            marketplace="ebay",
            account=account,
            base_url=base_url,
            timeout=timeout,
            max_retries=int(options.get("max_retries", 4)),
            max_connections=int(options.get("max_connections", 32)),
            classify=classify,
            user_agent=user_agent,
            transport=http_transport,
        )
        overrides = options.get("daily_limits") or {}
        self.buckets: dict[str, TokenBucket] = {}
        for api in DEFAULT_DAILY_LIMITS:
            lim = limit_for(api, overrides)
            self.buckets[api] = limiter.bucket("ebay", account, api, rate=lim.rate, burst=lim.burst)
        token_url = str(options.get("token_url") or base_url.rstrip("/") + TOKEN_PATH)
        scopes = options.get("scopes") or USER_SCOPES
        client_id = credentials["client_id"].get_secret_value()

        def source(grant: Grant, scopes: tuple[str, ...], refresh_token: SecretStr | None) -> TokenSource:
            return TokenSource(
                self.http,
                token_url=token_url,
                client_id=client_id,
                client_secret=credentials["client_secret"],
                grant=grant,
                scopes=scopes,
                refresh_token=refresh_token,
                bucket=self.buckets["identity"],
            )

        user_scopes = tuple(scopes.split() if isinstance(scopes, str) else scopes)
        self.user_tokens = source("refresh_token", user_scopes, credentials["refresh_token"])
        self.app_tokens = source("client_credentials", APP_SCOPES, None)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        api: str = "inventory",
        app_token: bool = False,
        scheme: str = "Bearer",
        expected: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        tokens = self.app_tokens if app_token else self.user_tokens
        auth, refresh = tokens.bearer(scheme)
        return await self.http.request(
            method,
            path,
            operation=operation,
            bucket=self.buckets[api],
            auth=auth,
            on_auth_error=refresh,
            expected=expected,
            **kwargs,
        )

    def _write_headers(self, key: str | None, *, language: bool = False) -> dict[str, str]:
        h = {}
        if language:
            h["content-language"] = self.content_language
        if key:
            h[IDEMPOTENCY_HEADER] = key
        return h

    # ---- Sell Inventory ---------------------------------------------------------------------------------------
    async def get_inventory_items(self, params: dict[str, str]) -> dict[str, Any]:
        r = await self.call(
            "GET",
            f"{INVENTORY}/inventory_item",
            operation="getInventoryItems",
            params=params,
            expected=(404,),
        )
        return {} if r.status_code == 404 else r.json()  # type: ignore[no-any-return]

    async def put_inventory_item(self, sku: str, body: dict[str, Any], key: str | None) -> httpx.Response:
        return await self.call(
            "PUT",
            f"{INVENTORY}/inventory_item/{_sku_path(sku)}",
            operation="createOrReplaceInventoryItem",
            json=body,
            headers=self._write_headers(key, language=True),
        )

    async def get_offers(self, sku: str) -> list[dict[str, Any]]:
        """All offers of this SKU on our marketplace; [] when eBay says there are none (404 / 25713)."""
        r = await self.call(
            "GET", f"{INVENTORY}/offer", operation="getOffers", params={"sku": sku}, expected=(404,)
        )
        if r.status_code == 404:
            return []
        offers = r.json().get("offers") or []
        return [o for o in offers if o.get("marketplaceId", self.marketplace_id) == self.marketplace_id]

    async def create_offer(self, body: dict[str, Any], key: str | None) -> httpx.Response:
        # 400 comes back to the caller: "offer already exists" (25002) carries the existing offerId
        return await self.call(
            "POST",
            f"{INVENTORY}/offer",
            operation="createOffer",
            json=body,
            headers=self._write_headers(key, language=True),
            expected=(400,),
        )

    async def update_offer(self, offer_id: str, body: dict[str, Any], key: str | None) -> None:
        await self.call(
            "PUT",
            f"{INVENTORY}/offer/{quote(offer_id, safe='')}",
            operation="updateOffer",
            json=body,
            headers=self._write_headers(key, language=True),
        )

    async def publish_offer(self, offer_id: str, key: str | None) -> str | None:
        # the trailing slash is part of eBay's published path
        r = await self.call(
            "POST",
            f"{INVENTORY}/offer/{quote(offer_id, safe='')}/publish/",
            operation="publishOffer",
            headers=self._write_headers(key),
        )
        return r.json().get("listingId")  # type: ignore[no-any-return]

    async def withdraw_offer(self, offer_id: str, key: str | None) -> bool:
        """True if withdrawn now, False if eBay says the offer is not live (already withdrawn: a replay)."""
        r = await self.call(
            "POST",
            f"{INVENTORY}/offer/{quote(offer_id, safe='')}/withdraw",
            operation="withdrawOffer",
            headers=self._write_headers(key),
            expected=(400,),
        )
        if r.status_code == 400:
            if any(e.get("errorId") == OFFER_NOT_AVAILABLE for e in error_list(r.json())):
                return False
            raise classify(r, "withdrawOffer")
        return True

    async def bulk_update_price_quantity(
        self, requests: list[dict[str, Any]], key: str | None
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"{INVENTORY}/bulk_update_price_quantity",
            operation="bulkUpdatePriceQuantity",
            json={"requests": requests},
            headers=self._write_headers(key),
        )

    async def bulk_create_or_replace(self, requests: list[dict[str, Any]], key: str | None) -> httpx.Response:
        return await self.call(
            "POST",
            f"{INVENTORY}/bulk_create_or_replace_inventory_item",
            operation="bulkCreateOrReplaceInventoryItem",
            json={"requests": requests},
            headers=self._write_headers(key, language=True),
        )

    # ---- other APIs (not in the Sell Inventory spec; public shapes) ---------------------------------------------
    async def get_orders(self, params: dict[str, str]) -> dict[str, Any]:
        r = await self.call(
            "GET", f"{FULFILLMENT}/order", api="fulfillment", operation="getOrders", params=params
        )
        return r.json()  # type: ignore[no-any-return]

    async def search_items(self, params: dict[str, str]) -> dict[str, Any]:
        r = await self.call(
            "GET",
            f"{BROWSE}/item_summary/search",
            api="browse",
            operation="browse.search",
            app_token=True,
            params=params,
            headers={"x-ebay-c-marketplace-id": self.marketplace_id},
            expected=(404,),
        )
        return {} if r.status_code == 404 else r.json()  # type: ignore[no-any-return]

    async def create_cancellation(self, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        # Post-Order API: OAuth user tokens go in as "IAF <token>"; marketplace ids use a hyphen (EBAY-US)
        r = await self.call(
            "POST",
            f"{POST_ORDER}/cancellation",
            api="post_order",
            operation="createCancellation",
            scheme="IAF",
            json=body,
            headers={
                "x-ebay-c-marketplace-id": POST_ORDER_SITES.get(
                    self.marketplace_id, self.marketplace_id.replace("_", "-")
                ),
                **self._write_headers(key),
            },
        )
        return r.json()  # type: ignore[no-any-return]
