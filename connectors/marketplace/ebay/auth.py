"""eBay OAuth: mint access tokens from the seller's long-lived refresh token (user token, Sell APIs) or from the
application keys alone (application token, Browse API), cache them until shortly before they expire, and refresh
once when eBay says 401 even though we thought the token was still good (revoked, clock skew)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import SecretStr

from connectors.errors import AuthError
from connectors.http import HttpTransport
from connectors.ratelimit import TokenBucket

USER_SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
)
APP_SCOPES = ("https://api.ebay.com/oauth/api_scope",)
# Refresh this long before eBay's stated expiry so a token never dies in flight.
EXPIRY_MARGIN_SECONDS = 120.0

Grant = Literal["refresh_token", "client_credentials"]


class TokenSource:
    def __init__(
        self,
        transport: HttpTransport,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        grant: Grant,
        scopes: tuple[str, ...],
        refresh_token: SecretStr | None = None,
        bucket: TokenBucket | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if grant == "refresh_token" and refresh_token is None:
            raise ValueError("refresh_token grant needs the seller's refresh token")
        self._transport = transport
        self._token_url = token_url
        basic = base64.b64encode(f"{client_id}:{client_secret.get_secret_value()}".encode()).decode()
        self._basic = SecretStr(f"Basic {basic}")
        self._grant = grant
        self._scopes = scopes
        self._refresh_token = refresh_token
        self._bucket = bucket
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.minted = 0  # how many tokens we fetched (tests, metrics)

    async def token(self) -> str:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                await self._mint()
            assert self._token is not None
            return self._token

    async def refresh(self, stale: str | None) -> None:
        """Called after a 401 answered a request sent with `stale`: only the first of many concurrent 401s on the
        same token mints a new one."""
        async with self._lock:
            if self._token is None or self._token == stale:
                await self._mint()

    async def _mint(self) -> None:
        form = {"grant_type": self._grant, "scope": " ".join(self._scopes)}
        if self._refresh_token is not None:
            form["refresh_token"] = self._refresh_token.get_secret_value()
        response = await self._transport.request(
            "POST",
            self._token_url,
            operation="oauth.token",
            replay_safe=True,  # a second token is harmless
            bucket=self._bucket,
            data=form,
            headers={"authorization": self._basic.get_secret_value()},
        )
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise AuthError("eBay token endpoint answered without an access_token", marketplace="ebay")
        ttl = float(body.get("expires_in") or 7200)
        self._token = str(token)
        self._expires_at = self._clock() + max(1.0, ttl - min(EXPIRY_MARGIN_SECONDS, ttl / 4))
        self.minted += 1

    def bearer(
        self, scheme: str = "Bearer"
    ) -> tuple[Callable[[], Awaitable[dict[str, str]]], Callable[[], Awaitable[None]]]:
        """(auth, on_auth_error) callables for one HttpTransport.request: the refresh knows which token failed."""
        used: dict[str, str] = {}

        async def auth() -> dict[str, str]:
            used["token"] = await self.token()
            return {"authorization": f"{scheme} {used['token']}"}

        async def on_auth_error() -> None:
            await self.refresh(used.get("token"))

        return auth, on_auth_error
