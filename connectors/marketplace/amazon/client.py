"""SP-API calls: the shared HttpTransport plus LWA access tokens, per-operation usage-plan buckets, the SP-API
error list mapped onto the connector taxonomy, and `x-amzn-RateLimit-Limit` fed back into the buckets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors.errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    RateLimited,
    ServerError,
    ValidationError,
)
from connectors.http import HttpTransport, retry_after_seconds
from connectors.marketplace.amazon.auth import LwaAuth
from connectors.marketplace.amazon.limits import FEED_TYPE_LIMITS, RATE_LIMITS
from connectors.ratelimit import RateLimiterRegistry, TokenBucket

RATE_HEADER = "x-amzn-ratelimit-limit"
# Amazon's bucket starts when our first request arrives, ours when we send it; network jitter would otherwise let
# a request arrive a few milliseconds early and cost a 429 plus a whole Retry-After. 1% slower avoids that.
RATE_SAFETY = 0.99
# The same jitter hits a burst: a request sent just after the burst was spent can arrive at Amazon's bucket before
# it refilled. Leaving one token of the burst to Amazon absorbs jitter up to 1/rate seconds. Only for fast buckets:
# on a slow one (feeds, one per minutes) the token would cost minutes, and jitter is negligible against 1/rate.
BURST_HEADROOM = 1.0
HEADROOM_MIN_RATE = 0.1


def usable_burst(rate: float, burst: float) -> float:
    if rate >= HEADROOM_MIN_RATE and burst - BURST_HEADROOM >= 1:
        return burst - BURST_HEADROOM
    return burst


# SP-API ignores unknown headers; the sandbox records this one to prove that nothing was applied twice.
TRACE_KEY_HEADER = "x-merchflow-idempotency-key"


def _header_rate(response: httpx.Response) -> float | None:
    try:
        rate = float(response.headers.get(RATE_HEADER, ""))
    except ValueError:
        return None
    return rate if rate > 0 else None


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            err = errors[0]
            details = f" ({err['details']})" if err.get("details") else ""
            return err.get("code"), f"{err.get('message', '')}{details}"
        if "error" in body:  # Login with Amazon
            return str(body["error"]), str(body.get("error_description", ""))
    return None, ""


def classify(response: httpx.Response, operation: str) -> ConnectorError | None:
    status = response.status_code
    code, message = _error_of(response)
    text = message or f"amazon answered {status}"
    kw: dict[str, Any] = {"marketplace": "amazon", "operation": operation, "status": status, "code": code}
    if operation == "lwaToken" and status in (400, 401):
        return AuthError(text, **kw)  # invalid_grant / invalid_client: the refresh token or app credentials
    if status == 429:
        wait = retry_after_seconds(response.headers)
        if wait is None:  # SP-API rarely sends Retry-After: wait one token's worth of the applied usage plan
            rate = _header_rate(response)
            wait = 1 / rate if rate else None
        return RateLimited(text, retry_after=wait, **kw)
    if status >= 500:
        return ServerError(text, retry_after=retry_after_seconds(response.headers), **kw)
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 404:
        return NotFoundError(text, **kw)
    return ValidationError(text, **kw)


def observe(response: httpx.Response, bucket: TokenBucket) -> None:
    """The usage plan Amazon applied to this seller may differ from the published default: follow it."""
    rate = _header_rate(response)
    if rate is not None and not bucket.unlimited and abs(rate * RATE_SAFETY - bucket.rate) > 1e-9:
        bucket.set_rate(rate * RATE_SAFETY)


class SpApiClient:
    def __init__(
        self,
        *,
        http: HttpTransport,
        lwa: LwaAuth,
        limiter: RateLimiterRegistry,
        account: str,
    ) -> None:
        self.http = http
        self.lwa = lwa
        self.limiter = limiter
        self.account = account

    def bucket(self, operation: str) -> TokenBucket:
        rate, burst = RATE_LIMITS[operation]
        return self.limiter.bucket(
            "amazon", self.account, operation, rate=rate * RATE_SAFETY, burst=usable_burst(rate, burst)
        )

    def feed_type_bucket(self, feed_type: str) -> TokenBucket | None:
        if feed_type not in FEED_TYPE_LIMITS:
            return None
        rate, burst = FEED_TYPE_LIMITS[feed_type]
        return self.limiter.bucket(
            "amazon", self.account, f"createFeed:{feed_type}", rate=rate * RATE_SAFETY, burst=burst
        )

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        expected: tuple[int, ...] = (),
        replay_safe: bool | None = None,
    ) -> httpx.Response:
        """One SP-API operation. `replay_safe`: see HttpTransport.request (a write is not resent unless it says so)."""
        sent: list[str] = []  # the token each attempt carried, so a 403 drops only a token still in use

        async def auth() -> dict[str, str]:
            token = await self.lwa.token()
            sent.append(token)
            return {"x-amz-access-token": token}

        async def on_auth_error() -> None:
            await self.lwa.invalidate(sent[-1] if sent else None)

        # Token first: the usage-plan token is taken just before sending, not before a slow LWA round trip.
        await self.lwa.token()
        headers = {"accept": "application/json"}
        if idempotency_key:
            headers[TRACE_KEY_HEADER] = idempotency_key
        kwargs: dict[str, Any] = {"headers": headers}
        if params:
            kwargs["params"] = {k: v for k, v in params.items() if v is not None}
        if json is not None:
            kwargs["json"] = json
        return await self.http.request(
            method,
            path,
            operation=operation,
            bucket=self.bucket(operation),
            auth=auth,
            on_auth_error=on_auth_error,
            expected=expected,
            replay_safe=replay_safe,
            **kwargs,
        )

    async def raw(self, method: str, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        """A presigned document URL: no SP-API token, no usage plan."""
        return await self.http.request(method, url, operation=operation, **kwargs)
