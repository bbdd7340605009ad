"""HTTP plumbing for the WooCommerce REST API v3: auth, error classification, paging headers, rate-limit bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
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
from connectors.marketplace.woocommerce.auth import WooAuth
from connectors.ratelimit import TokenBucket

API_PREFIX = "/wp-json/wc/v3"
# Header the sandbox (and our logs) use to attribute effects; WordPress ignores unknown headers.
IDEMPOTENCY_HEADER = "X-Merchflow-Idempotency-Key"


def error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """Woo's error body is {"code", "message", "data": {"status"}}; hosts in front of it may answer HTML."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        code = body.get("code")
        message = body.get("message")
        return (str(code) if code else None), str(message or f"HTTP {response.status_code}")
    return None, f"HTTP {response.status_code}"


def classify(response: httpx.Response, operation: str) -> ConnectorError:
    status = response.status_code
    code, message = error_fields(response)
    kw: dict[str, Any] = {
        "marketplace": "woocommerce",
        "operation": operation,
        "status": status,
        "code": code,
    }
    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status >= 500:
        return ServerError(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status in (401, 403):
        return AuthError(message, **kw)
    # Woo answers an unknown id with 404 on reads but 400 "..._invalid_id" on updates
    if status == 404 or (code or "").endswith("_invalid_id"):
        return NotFoundError(message, **kw)
    return ValidationError(message, **kw)


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    total_pages: int
    server_time: datetime | None = None  # from the Date header: the site's clock, not ours


class WooClient:
    """One per account: the shared HttpTransport with Woo's auth, classifier and one rate-limit bucket.

    WooCommerce core has no rate limit; hosts (WP Engine, Cloudflare, nginx limit_req) apply one per site, not per
    endpoint, so every call of an account shares a single bucket ("rest")."""

    def __init__(self, transport: HttpTransport, auth: WooAuth, bucket: TokenBucket) -> None:
        self.transport = transport
        self.auth = auth
        self.bucket = bucket
        transport.client.auth = auth

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        kwargs: dict[str, Any] = {}
        if body is not None:
            headers["content-type"] = "application/json"
            kwargs["content"] = json.dumps(body, separators=(",", ":")).encode()
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        fell_back = self.auth.use_query
        try:
            return await self.transport.request(
                method,
                API_PREFIX + path,
                operation=operation,
                bucket=self.bucket,
                on_auth_error=self.auth.on_auth_error if self.auth.mode == "auto" else None,
                params=params,
                headers=headers,
                expected=expected,
                **kwargs,
            )
        except AuthError:
            if not fell_back:
                self.auth.rejected_after_fallback()
            raise

    async def get_json(self, path: str, *, operation: str, params: dict[str, Any] | None = None) -> Any:
        return (await self.call("GET", path, operation=operation, params=params)).json()

    async def get_page(self, path: str, *, operation: str, params: dict[str, Any]) -> Page:
        response = await self.call("GET", path, operation=operation, params=params)
        items = response.json()
        if not isinstance(items, list):
            raise ValidationError(
                "expected a JSON array", marketplace="woocommerce", operation=operation, status=200
            )
        total = _int_header(response, "x-wp-total", len(items))
        pages = _int_header(response, "x-wp-totalpages", 1 if items else 0)
        return Page(items=items, total=total, total_pages=pages, server_time=_date_header(response))

    async def aclose(self) -> None:
        await self.transport.aclose()


def _date_header(response: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError):
        return None


def _int_header(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers.get(name, default))
    except ValueError:
        return default
