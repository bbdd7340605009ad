"""eBay error bodies -> the connector error taxonomy, and bulk per-item answers -> ItemOutcome.

eBay REST errors look like {"errors": [{"errorId", "domain", "category", "message", "longMessage", "parameters"}]};
the OAuth endpoint answers {"error": "invalid_grant", "error_description": "..."} instead.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.errors import (
    AuthError,
    ConcurrentModification,
    ConnectorError,
    NotFoundError,
    RateLimited,
    ServerError,
    ValidationError,
)
from connectors.http import retry_after_seconds
from connectors.marketplace.types import ItemOutcome

CONCURRENT_ACCESS = 25025  # "Concurrent access of Inventory or InventoryItemGroup. Please try again later"
SYSTEM_ERROR = 25001
SKU_NOT_FOUND = 25702
OFFER_NOT_AVAILABLE = 25713
OFFER_EXISTS = 25002  # createOffer on a SKU that already has one: parameters carry the existing offerId
RATE_LIMITED = 2001  # "Too many requests. The request limit has been reached for the resource."
INVALID_TOKEN = 1001
# Errors that say "this item, right now" rather than "this request is wrong": retrying the item can succeed.
TRANSIENT_ITEM_ERRORS = {CONCURRENT_ACCESS, SYSTEM_ERROR}


def error_list(body: Any) -> list[dict[str, Any]]:
    """REST APIs answer {"errors": [...]}; the older Post-Order API answers {"error": [...]}."""
    if isinstance(body, dict):
        for key in ("errors", "error"):
            if isinstance(body.get(key), list):
                return [e for e in body[key] if isinstance(e, dict)]
    return []


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def error_parameter(error: dict[str, Any], name: str) -> str | None:
    for p in error.get("parameters") or []:
        if isinstance(p, dict) and p.get("name") == name:
            value = p.get("value")
            return str(value) if value is not None else None
    return None


def classify(response: httpx.Response, operation: str) -> ConnectorError:
    """Decide retryable vs not from the status *and* eBay's errorId (25025 arrives as HTTP 500 but is a lock, not
    an outage; it clears in seconds)."""
    status = response.status_code
    body = _json(response)
    errors = error_list(body)
    first = errors[0] if errors else {}
    ids = {e.get("errorId") for e in errors}
    code = str(first.get("errorId")) if first.get("errorId") is not None else None
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # OAuth endpoint shape
        code = str(body.get("error"))
        message = str(body.get("error_description") or body.get("error"))
    else:
        message = str(first.get("message") or f"eBay answered {status}")
    kw: dict[str, Any] = {"status": status, "code": code, "operation": operation, "marketplace": "ebay"}
    if CONCURRENT_ACCESS in ids:
        return ConcurrentModification(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status == 429 or RATE_LIMITED in ids:
        return RateLimited(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status >= 500:
        return ServerError(message, retry_after=retry_after_seconds(response.headers), **kw)
    if status in (401, 403) or code in ("invalid_grant", "invalid_client"):
        return AuthError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    return ValidationError(message, **kw)


def item_outcome(entry: dict[str, Any], *, sku: str) -> ItemOutcome:
    """One entry of `responses[]` (bulkUpdatePriceQuantity, bulkCreateOrReplaceInventoryItem)."""
    status = int(entry.get("statusCode") or 0)
    errors = [e for e in entry.get("errors") or [] if isinstance(e, dict)]
    external_id = entry.get("offerId")
    if 200 <= status < 300 and not errors:
        warnings = entry.get("warnings") or []
        message = "; ".join(str(w.get("message")) for w in warnings if isinstance(w, dict)) or None
        return ItemOutcome(sku=sku, status="applied", external_id=external_id, message=message)
    first = errors[0] if errors else {}
    error_id = first.get("errorId")
    code = str(error_id) if error_id is not None else f"http_{status}"
    message = str(first.get("message") or f"statusCode {status}")
    ids = {e.get("errorId") for e in errors}
    transient = bool(ids & TRANSIENT_ITEM_ERRORS) or status >= 500 or status == 0
    return ItemOutcome(
        sku=sku,
        status="failed" if transient else "rejected",
        code=code,
        message=message,
        external_id=external_id,
    )


def worst(outcomes: list[ItemOutcome]) -> ItemOutcome:
    """eBay answers one entry per offer *and* per SKU availability; the SKU's outcome is the worst of them.
    Order: rejected (needs a human) > failed (retry) > applied."""
    rank = {"rejected": 3, "conflict": 2, "failed": 1, "applied": 0}
    return max(outcomes, key=lambda o: rank[o.status])


def error_outcome(sku: str, err: ConnectorError) -> ItemOutcome:
    return ItemOutcome(
        sku=sku,
        status="failed" if err.retryable else "rejected",
        code=err.code or (f"http_{err.status}" if err.status else type(err).__name__),
        message=err.message,
    )


def outcomes_for_chunk(skus: list[str], responses: list[dict[str, Any]]) -> list[ItemOutcome]:
    """One outcome per SKU sent, in the order sent. A SKU eBay did not answer for is "failed" (retry it), never
    silently "applied"."""
    by_sku: dict[str, list[ItemOutcome]] = {}
    for entry in responses:
        sku = str(entry.get("sku") or "")
        by_sku.setdefault(sku, []).append(item_outcome(entry, sku=sku))
    out = []
    for sku in skus:
        got = by_sku.get(sku)
        out.append(
            worst(got)
            if got
            else ItemOutcome(sku=sku, status="failed", code="no_response", message="eBay returned no entry")
        )
    return out
