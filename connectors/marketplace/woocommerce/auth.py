"""Consumer key / secret authentication as the WooCommerce REST docs describe it for HTTPS sites.

HTTP Basic (key as user, secret as password) is the documented default. Some hosts strip the Authorization header
before PHP sees it; for those the docs say to send `consumer_key` / `consumer_secret` as query-string parameters.
Mode "auto" starts with Basic and switches to the query string once if the site answers 401 - a Woo site that lost
the header answers exactly like an unauthenticated request.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Literal

import httpx
from pydantic import SecretStr

AuthMode = Literal["basic", "query", "auto"]


class WooAuth(httpx.Auth):
    def __init__(self, consumer_key: SecretStr, consumer_secret: SecretStr, mode: AuthMode = "auto") -> None:
        if mode not in ("basic", "query", "auto"):
            raise ValueError(f"WooCommerce auth mode must be basic, query or auto, not {mode!r}")
        self._key = consumer_key
        self._secret = consumer_secret
        self.mode = mode
        self.use_query = mode == "query"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.use_query:
            request.url = request.url.copy_merge_params(
                {
                    "consumer_key": self._key.get_secret_value(),
                    "consumer_secret": self._secret.get_secret_value(),
                }
            )
        else:
            pair = f"{self._key.get_secret_value()}:{self._secret.get_secret_value()}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        yield request

    async def on_auth_error(self) -> None:
        """Called once by the transport after a 401: in auto mode, retry with query-string credentials."""
        if self.mode == "auto":
            self.use_query = True

    def rejected_after_fallback(self) -> None:
        """The query string did not help either: the credentials themselves are wrong; go back to Basic."""
        if self.mode == "auto":
            self.use_query = False
