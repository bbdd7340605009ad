"""The HTTP transport every marketplace adapter uses: one httpx.AsyncClient per account, rate limits, bounded
retries of retryable failures, error classification, and request logs without bodies or secrets.

A write whose outcome is unknown is never resent from here. eBay, Amazon and WooCommerce do not deduplicate
idempotency keys, so resending "quantity = 4" after its answer was lost can land after a newer "quantity = 0" and put
a sold-out SKU back on sale. Reads, and requests a caller declares `replay_safe` (token requests, uploads of a
document nothing refers to yet, POSTs that only read), are retried; a write is retried only when it certainly was
not applied (refused connection, 429, a concurrency lock). Otherwise the error is raised with `outcome_unknown` set
and the caller - the push activity, retried by Temporal - re-reads the current value and sends that.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from connectors.errors import (
    AuthError,
    ConcurrentModification,
    ConnectorError,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)
from connectors.observers import request_finished
from connectors.ratelimit import TokenBucket
from merchflow.telemetry.metrics import MARKETPLACE_REQUEST_SECONDS, MARKETPLACE_REQUESTS

log = structlog.get_logger("connectors.http")

# Marketplace-specific hook: look at an error response and return the right ConnectorError (or None for default)
ErrorClassifier = Callable[[httpx.Response, str], ConnectorError | None]
# Marketplace-specific hook: learn from response headers (x-amzn-RateLimit-Limit, ...)
ResponseObserver = Callable[[httpx.Response, TokenBucket], None]

REPLAY_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures before a single byte of the request left: resending cannot apply anything twice.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that say the request was not applied (throttled, or a lock that refused it).
NOT_APPLIED = (RateLimited, ConcurrentModification)


def retry_after_seconds(headers: Mapping[str, str], default: float | None = None) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


class HttpTransport:
    def __init__(
        self,
        *,
        marketplace: str,
        account: str,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_connections: int = 32,
        classify: ErrorClassifier | None = None,
        observe: ResponseObserver | None = None,
        headers: Mapping[str, str] | None = None,
        user_agent: str = "merchflow/0.1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.marketplace = marketplace
        self.account = account
        self.max_retries = max_retries
        self.classify = classify
        self.observe = observe
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"user-agent": user_agent, **(headers or {})},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(self, method: str, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        """every logical request counted by outcome, and its end told to the account-health listener.
        Account-level failures (auth, 5xx, throttled or unreachable after the retries) count against the account;
        a refused item (404, validation) is the item's problem, not the account's."""
        try:
            response = await self._request(method, url, operation=operation, **kwargs)
        except ConnectorError as exc:
            MARKETPLACE_REQUESTS.labels(self.marketplace, operation, _OUTCOMES.get(type(exc), "error")).inc()
            if isinstance(exc, AuthError | RateLimited | ServerError | TransportError):
                request_finished(self.marketplace, self.account, False, str(exc))
            raise
        MARKETPLACE_REQUESTS.labels(self.marketplace, operation, "ok").inc()
        request_finished(self.marketplace, self.account, True)
        return response

    async def _request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        bucket: TokenBucket | None = None,
        cost: float = 1.0,
        auth: Callable[[], Any] | None = None,
        on_auth_error: Callable[[], Any] | None = None,
        expected: tuple[int, ...] = (),
        replay_safe: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one logical request; retry 429 (after the advertised wait), 5xx and transport errors a bounded number
        of times, refresh credentials once on 401, then raise the classified ConnectorError.

        `auth` is awaited before each attempt and returns extra headers (fresh access token).
        `replay_safe` (default: GET / HEAD / OPTIONS only) says whether sending the request twice is harmless. When it
        is not, a 5xx or a failure after sending is raised at once with `outcome_unknown` set (see the module doc).
        """
        replayable = method.upper() in REPLAY_SAFE_METHODS if replay_safe is None else replay_safe
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            if bucket is not None:
                await bucket.acquire(cost)
            headers = dict(kwargs.pop("headers", None) or {})
            if auth is not None:
                headers.update(await auth())
            started = time.monotonic()
            try:
                response = await self.client.request(method, url, headers=headers, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                kwargs["headers"] = headers
                err: ConnectorError = TransportError(
                    f"{type(exc).__name__} talking to {self.marketplace}",
                    marketplace=self.marketplace,
                    operation=operation,
                )
                if not replayable and not isinstance(exc, NOT_SENT):
                    raise self._unknown(err, attempt) from exc
                if attempt > self.max_retries:
                    raise err from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            kwargs["headers"] = headers
            elapsed = time.monotonic() - started
            MARKETPLACE_REQUEST_SECONDS.labels(self.marketplace).observe(elapsed)
            if bucket is not None and self.observe is not None:
                self.observe(response, bucket)
            status = response.status_code
            log.debug(
                "marketplace request",
                marketplace=self.marketplace,
                account=self.account,
                operation=operation,
                method=method,
                status=status,
                ms=round(elapsed * 1000, 1),
                attempt=attempt,
            )
            if status < 400 or status in expected:
                return response
            err = self._classify(response, operation)
            if isinstance(err, AuthError) and on_auth_error is not None and not refreshed:
                refreshed = True
                await on_auth_error()
                continue
            if err.retryable and not replayable and not isinstance(err, NOT_APPLIED):
                raise self._unknown(err, attempt)
            if not err.retryable or attempt > self.max_retries:
                log.warning(
                    "marketplace request failed",
                    marketplace=self.marketplace,
                    account=self.account,
                    operation=operation,
                    status=status,
                    code=err.code,
                    attempt=attempt,
                )
                raise err
            if isinstance(err, RateLimited):
                wait = err.retry_after if err.retry_after is not None else self._backoff(attempt)
                if bucket is not None:
                    bucket.pause(wait)
                else:
                    await asyncio.sleep(wait)
            else:
                await asyncio.sleep(
                    err.retry_after if err.retry_after is not None else self._backoff(attempt)
                )

    def _unknown(self, err: ConnectorError, attempt: int) -> ConnectorError:
        err.outcome_unknown = True
        log.warning(
            "marketplace write outcome unknown; not resent",
            marketplace=self.marketplace,
            account=self.account,
            operation=err.operation,
            status=err.status,
            error=type(err).__name__,
            attempt=attempt,
        )
        return err

    def _classify(self, response: httpx.Response, operation: str) -> ConnectorError:
        if self.classify is not None:
            err = self.classify(response, operation)
            if err is not None:
                err.marketplace = err.marketplace or self.marketplace
                err.operation = err.operation or operation
                err.status = err.status or response.status_code
                return err
        return default_classify(response, self.marketplace, operation)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(8.0, 0.2 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


_OUTCOMES: dict[type, str] = {
    RateLimited: "rate_limited",
    ServerError: "server_error",
    TransportError: "transport_error",
    AuthError: "auth_error",
    NotFoundError: "not_found",
    ValidationError: "invalid",
}


def default_classify(response: httpx.Response, marketplace: str, operation: str) -> ConnectorError:
    status = response.status_code
    kw: dict[str, Any] = {"marketplace": marketplace, "operation": operation, "status": status}
    message = f"{marketplace} answered {status}"
    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status >= 500:
        return ServerError(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status in (401, 403):
        return AuthError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    return ValidationError(message, **kw)
