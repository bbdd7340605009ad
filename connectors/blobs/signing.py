"""Signed, expiring GET URLs for the local store: `<base>/api/v1/blobs/<token>`, the token an itsdangerous
signature over (key, expiry). The API route that serves them (api/blobs.py) calls `verify` and streams the file.

The expiry is inside the signed payload (not only checked against the signing time), so each URL carries its
own lifetime and a verifier cannot be talked into a longer one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from connectors.blobs.port import check_key

ROUTE_PREFIX = "/api/v1/blobs/"
_SALT = "merchflow.blob-url.v1"


class BlobUrlInvalid(ValueError):
    """Tampered, signed with another key, or not a blob URL token."""


class BlobUrlExpired(BlobUrlInvalid):
    pass


class BlobUrlSigner:
    def __init__(self, secret_key: str, *, base_url: str, clock: Callable[[], float] = time.time) -> None:
        if len(secret_key) < 16:
            raise ValueError("the signing key must be at least 16 characters")
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def token(self, key: str, *, expires_in: int) -> str:
        if expires_in <= 0:
            raise ValueError("expires_in must be positive")
        return self._serializer.dumps({"k": check_key(key), "e": int(self.clock()) + int(expires_in)})

    def url(self, key: str, *, expires_in: int) -> str:
        return f"{self.base_url}{ROUTE_PREFIX}{self.token(key, expires_in=expires_in)}"

    def _payload(self, token: str) -> dict[str, Any]:
        try:
            payload = self._serializer.loads(token)
        except BadSignature as exc:
            raise BlobUrlInvalid("the link is not valid") from exc
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("k"), str)
            or not isinstance(payload.get("e"), int)
        ):
            raise BlobUrlInvalid("the link is not valid")
        return payload

    def verify(self, token: str) -> str:
        """The blob key the token grants, or BlobUrlInvalid / BlobUrlExpired."""
        payload = self._payload(token)
        if self.clock() >= payload["e"]:
            raise BlobUrlExpired("the link has expired")
        return check_key(payload["k"])

    def expiry(self, token: str) -> int:
        """The epoch second a (valid) token stops working."""
        return int(self._payload(token)["e"])
