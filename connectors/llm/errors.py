"""SDK exceptions -> merchflow's connector errors. The SDKs have already retried 408 / 409 / 429 / 5xx
(Anthropic's 529 "overloaded" included) with exponential backoff when these are raised, so what is left is
either still retryable later (Temporal's retry policy takes over) or never will be (4xx)."""

from __future__ import annotations

from typing import Any

from connectors.errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)
from connectors.http import retry_after_seconds


def map_sdk_error(exc: Exception, *, provider: str) -> ConnectorError:
    status: int | None = getattr(exc, "status_code", None)
    name = type(exc).__name__
    body: Any = getattr(exc, "body", None)
    code = None
    if isinstance(body, dict):
        inner = body.get("error")
        err: dict[str, Any] = inner if isinstance(inner, dict) else body
        code = err.get("type") or err.get("code")
    message = getattr(exc, "message", None) or str(exc)
    kw: dict[str, Any] = {
        "marketplace": provider,
        "operation": "draft_listing",
        "status": status,
        "code": code,
    }
    if status is None:
        if name in ("APITimeoutError", "APIConnectionError"):
            return TransportError(f"{provider}: {name}", **kw)
        return ServerError(f"{provider}: {name}: {message}", **kw)
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(headers), **kw)
    if status >= 500 or status in (408, 409):
        return ServerError(message, retry_after=retry_after_seconds(headers), **kw)
    if status in (401, 403):
        return AuthError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    return ValidationError(message, **kw)
