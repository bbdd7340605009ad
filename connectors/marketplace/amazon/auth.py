"""Login with Amazon: exchange the seller's refresh token for a short-lived access token, cache it, refresh it
shortly before it expires and whenever SP-API says it is no longer valid. No AWS SigV4 (SP-API dropped it)."""

from __future__ import annotations

import asyncio
import time

from pydantic import SecretStr

from connectors.errors import AuthError
from connectors.http import HttpTransport


class LwaAuth:
    def __init__(
        self,
        http: HttpTransport,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        margin_seconds: float = 60.0,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.margin_seconds = margin_seconds
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self._lifetime = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def _valid(self) -> bool:
        # Refresh a little early; for very short-lived tokens the margin shrinks with the lifetime.
        margin = min(self.margin_seconds, self._lifetime * 0.1)
        return self._token is not None and time.monotonic() < self._expires_at - margin

    async def token(self) -> str:
        if not self._valid():
            async with self._lock:  # concurrent requests wait for one refresh instead of each starting one
                if not self._valid():
                    await self._refresh()
        assert self._token is not None
        return self._token.get_secret_value()

    async def invalidate(self, token: str | None) -> None:
        """SP-API refused `token` (403 Unauthorized): drop it unless someone already replaced it."""
        async with self._lock:
            if self._token is not None and (token is None or token == self._token.get_secret_value()):
                self._token = None
                self._expires_at = 0.0

    async def _refresh(self) -> None:
        response = await self.http.request(
            "POST",
            self.token_url,
            operation="lwaToken",
            replay_safe=True,  # a second token is harmless
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token.get_secret_value(),
                "client_id": self.client_id,
                "client_secret": self._client_secret.get_secret_value(),
            },
        )
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise AuthError(
                "LWA answered without an access token", marketplace="amazon", operation="lwaToken"
            ) from None
        self._token = SecretStr(token)
        self._lifetime = lifetime
        self._expires_at = time.monotonic() + lifetime
        self.refreshes += 1
