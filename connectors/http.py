"""The HTTP transport every marketplace adapter uses: one httpx.AsyncClient per account, rate limits, bounded
retries of retryable failures, error classification, and request logs without bodies or secrets."""

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
    ConnectorError,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)
from connectors.ratelimit import TokenBucket

log = structlog.get_logger("connectors.http")

# Marketplace-specific hook: look at an error response and return the right ConnectorError (or None for default)
ErrorClassifier = Callable[[httpx.Response, str], ConnectorError | None]
# Marketplace-specific hook: learn from response headers (x-amzn-RateLimit-Limit, ...)
ResponseObserver = Callable[[httpx.Response, TokenBucket], None]


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

    async def request(
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
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one logical request; retry 429 (after the advertised wait), 5xx and transport errors a bounded number
        of times, refresh credentials once on 401, then raise the classified ConnectorError.

        `auth` is awaited before each attempt and returns extra headers (fresh access token).
        Retrying a mutating request is only safe because every mutation here sets absolute values or carries an
        idempotency key; the caller decides which methods it sends through here.
        """
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
                if attempt > self.max_retries:
                    raise err from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            kwargs["headers"] = headers
            elapsed = time.monotonic() - started
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
