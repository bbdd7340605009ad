"""Admin GraphQL transport for one shop: access token (static or client-credentials grant, refreshed on 401 or
before expiry), Shopify's cost-based throttling, and GraphQL error classification.

Throttling: one bucket per (shopify, account, "graphql") because Shopify budgets cost points per app per store across
every query. Before sending, the adapter takes the document's estimated requestedQueryCost; every answer's
`extensions.cost.throttleStatus` then resets the client's view (never above what the shop says is left). A THROTTLED
answer (HTTP 200, errors[].extensions.code == "THROTTLED", nothing executed) waits until the bucket can cover the
requested cost and sends again; after `max_throttled` attempts it raises RateLimited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx
import structlog

from connectors.errors import (
    AuthError,
    ConnectorError,
    RateLimited,
    ServerError,
    ValidationError,
)
from connectors.http import HttpTransport
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.shopify.documents import Document
from connectors.ratelimit import RateLimiterRegistry

log = structlog.get_logger("connectors.shopify")

API_VERSION = "2025-01"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - a URL path
# Standard plan budget; Advanced / Plus shops answer bigger numbers in throttleStatus and the bucket follows them.
BUCKET_SIZE = 1000.0
RESTORE_RATE = 100.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _classify(response: httpx.Response, operation: str) -> ConnectorError | None:
    """402 (shop frozen for unpaid bills) and 423 (shop locked) are not fixed by retrying."""
    if response.status_code in (402, 423):
        return AuthError(f"shop unavailable (HTTP {response.status_code})", code=str(response.status_code))
    return None


class ShopifyGraphQL:
    def __init__(
        self,
        cfg: AccountConfig,
        limiter: RateLimiterRegistry,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_throttled: int = 12,
    ) -> None:
        self.account = cfg.name
        self._creds = cfg.credentials
        self.http = HttpTransport(
            marketplace="shopify",
            account=cfg.name,
            base_url=cfg.base_url.rstrip("/"),
            timeout=cfg.timeout_seconds,
            classify=_classify,
            user_agent=cfg.user_agent,
            transport=transport,
            max_retries=int(cfg.options.get("max_retries", 4)),
        )
        self.bucket = limiter.bucket(
            "shopify",
            cfg.name,
            "graphql",
            rate=float(cfg.options.get("restore_rate", RESTORE_RATE)),
            burst=float(cfg.options.get("bucket_size", BUCKET_SIZE)),
        )
        self.max_throttled = max_throttled
        self._token: str | None = self._secret("access_token")
        self._token_expires = float("inf")
        self._lock = asyncio.Lock()
        self.last_cost: dict[str, Any] = {}  # the last extensions.cost seen (tests and benchmarks read it)

    def _secret(self, key: str) -> str | None:
        value = self._creds.get(key)
        return value.get_secret_value() if value is not None else None

    @property
    def can_refresh(self) -> bool:
        return bool(self._secret("client_id") and self._secret("client_secret"))

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- auth ----------------------------------------------------------------------------------------------------
    async def _auth_headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._token_expires - 300:
            await self.refresh(force=False)
        assert self._token is not None
        return {"X-Shopify-Access-Token": self._token}

    async def refresh(self, force: bool = True, rejected: str | None = None) -> None:
        """Client credentials grant: exchange the app's client id / secret for a token (about 24 h).
        `rejected` is the token a 401 came back for: if another request replaced it meanwhile, nothing to do."""
        async with self._lock:
            fresh = self._token is not None and time.monotonic() < self._token_expires - 300
            if (not force and fresh) or (force and rejected is not None and rejected != self._token):
                return
            if not self.can_refresh:
                raise AuthError(
                    "Shopify access token rejected and no client_id / client_secret to get a new one",
                    marketplace="shopify",
                    operation="oauth",
                )
            response = await self.http.request(
                "POST",
                TOKEN_PATH,
                operation="oauth",
                replay_safe=True,  # a second token is harmless
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._secret("client_id"),
                    "client_secret": self._secret("client_secret"),
                },
                expected=(400, 401, 403),
            )
            if response.status_code != 200:
                raise AuthError(
                    "Shopify refused the client credentials",
                    marketplace="shopify",
                    operation="oauth",
                    status=response.status_code,
                    code=str(_json(response).get("error") or ""),
                )
            body = _json(response)
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + float(body.get("expires_in") or 86399)
            log.info("shopify access token obtained", account=self.account, expires_in=body.get("expires_in"))

    # ---- requests ------------------------------------------------------------------------------------------------
    async def execute(
        self,
        doc: Document,
        variables: Mapping[str, Any] | None = None,
        *,
        cost: float | None = None,
        idempotency_key: str | None = None,
        replay_safe: bool | None = None,
    ) -> dict[str, Any]:
        """Send one document; returns `data`. Raises the classified ConnectorError for top-level errors.

        A query is resent after a server error; a mutation is not (2025-01 has no idempotency key, so a resend after
        a lost answer could apply older values after newer ones): its error goes up with `outcome_unknown` set.
        `replay_safe=True` says this mutation is harmless to repeat (a compare-and-set guard: a replay after it was
        applied is refused as stale)."""
        resend = not doc.is_mutation if replay_safe is None else replay_safe
        estimate = float(cost if cost is not None else doc.cost)
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {}
        payload = {"query": doc.text, "variables": dict(variables or {}), "operationName": doc.name}
        server_errors = 0
        sent: list[str] = []  # the token each attempt carried, so a 401 refreshes only a token still in use

        async def auth() -> dict[str, str]:
            h = await self._auth_headers()
            sent.append(h["X-Shopify-Access-Token"])
            return h

        async def on_auth_error() -> None:
            await self.refresh(force=True, rejected=sent[-1] if sent else None)

        for attempt in range(1, self.max_throttled + 2):
            response = await self.http.request(
                "POST",
                GRAPHQL_PATH,
                operation=doc.name,
                bucket=self.bucket,
                cost=estimate,
                auth=auth,
                on_auth_error=on_auth_error if self.can_refresh else None,
                json=payload,
                headers=headers,
                replay_safe=resend,
            )
            try:
                body = _json(response)
            except ServerError as exc:
                exc.outcome_unknown = not resend
                raise
            cost_ext = (body.get("extensions") or {}).get("cost") or {}
            self.last_cost = cost_ext
            errors = body.get("errors") or []
            codes = {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                wait = self._throttled(cost_ext, estimate)
                if attempt > self.max_throttled:
                    raise RateLimited("Shopify cost budget exhausted", marketplace="shopify", operation=doc.name,
                                      code="THROTTLED", retry_after=wait)  # fmt: skip
                log.info("shopify throttled", account=self.account, operation=doc.name, wait=round(wait, 2))
                continue
            self._learn(cost_ext, estimate)
            if not errors:
                return body.get("data") or {}
            if "INTERNAL_SERVER_ERROR" in codes and resend and server_errors < 2:
                server_errors += 1
                await asyncio.sleep(0.5 * server_errors)
                continue
            err = _graphql_error(errors, codes, doc.name)
            err.outcome_unknown = not resend and "INTERNAL_SERVER_ERROR" in codes
            raise err
        raise AssertionError("unreachable")

    def _throttled(self, cost_ext: Mapping[str, Any], estimate: float) -> float:
        ts = cost_ext.get("throttleStatus") or {}
        available = float(ts.get("currentlyAvailable", 0.0))
        rate = float(ts.get("restoreRate") or RESTORE_RATE)
        requested = float(cost_ext.get("requestedQueryCost") or estimate)
        wait = max(0.05, (requested - available) / rate)
        if self.bucket.unlimited:
            self.bucket.pause(
                wait
            )  # no client-side budget: hold everyone back for the advertised refill time
        else:
            self.bucket.set_available(available, rate=rate)  # acquire() then waits exactly for the refill
        return wait

    def _learn(self, cost_ext: Mapping[str, Any], estimate: float) -> None:
        ts = cost_ext.get("throttleStatus")
        if not ts or self.bucket.unlimited:
            return
        b = self.bucket
        b.burst = float(ts.get("maximumAvailable") or b.burst)
        rate = float(ts.get("restoreRate") or b.rate)
        actual = cost_ext.get("actualQueryCost")
        refund = max(0.0, estimate - float(actual)) if actual is not None else 0.0
        mine = min(b.burst, b.tokens + (time.monotonic() - b.updated) * b.rate) + refund
        # our own view counts requests still in flight; the shop's counts other clients of the same app
        b.set_available(min(mine, float(ts.get("currentlyAvailable", mine))), rate=rate)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ServerError(
            "Shopify answered a body that is not JSON", marketplace="shopify", status=response.status_code
        ) from None
    return body if isinstance(body, dict) else {}


def _graphql_error(errors: list[Any], codes: set[str], operation: str) -> ConnectorError:
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(first.get("message") or "GraphQL error")[:300]
    code = next(iter(sorted(codes - {"None"})), None)
    kw: dict[str, Any] = {"marketplace": "shopify", "operation": operation, "status": 200, "code": code}
    if "ACCESS_DENIED" in codes:
        return AuthError(message, **kw)
    if "INTERNAL_SERVER_ERROR" in codes:
        return ServerError(message, **kw)
    return ValidationError(message, **kw)
