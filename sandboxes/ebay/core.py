"""Shared pieces of the eBay sandbox: schema, run-time knobs, eBay-shaped errors, OAuth token checks and the
server-side rate limits (eBay's published daily limits as per-second buckets, the same table the adapter uses)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from connectors.marketplace.ebay.limits import limit_for
from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS
from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter

SCHEMA = """
CREATE TABLE IF NOT EXISTS ebay_item (
    sku TEXT PRIMARY KEY,
    locale TEXT,
    condition TEXT,
    product TEXT NOT NULL DEFAULT '{}',
    quantity INTEGER,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ebay_offer (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    offer_id TEXT NOT NULL UNIQUE,
    sku TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    listing_id TEXT,
    price TEXT,
    currency TEXT,
    available_quantity INTEGER,
    sold_quantity INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_ebay_offer_sku ON ebay_offer(sku);
CREATE TABLE IF NOT EXISTS ebay_order (
    order_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    body TEXT NOT NULL,
    cancel_id TEXT
);
CREATE INDEX IF NOT EXISTS ix_ebay_order_modified ON ebay_order(modified_at, order_id);
CREATE TABLE IF NOT EXISTS ebay_token (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ebay_product (
    gtin TEXT PRIMARY KEY,
    epid TEXT NOT NULL,
    title TEXT NOT NULL,
    category_id TEXT NOT NULL,
    category_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ebay_competitor (
    gtin TEXT NOT NULL,
    seller TEXT NOT NULL,
    price TEXT NOT NULL,
    shipping TEXT,
    currency TEXT NOT NULL,
    condition_id TEXT NOT NULL DEFAULT '1000',
    PRIMARY KEY (gtin, seller)
);
"""

INVENTORY = "/sell/inventory/v1"
SELLER = SANDBOX_CREDENTIALS["seller_username"]
INVALID_TOKEN = {
    "errorId": 1001,
    "domain": "OAuth",
    "category": "REQUEST",
    "message": "Invalid access token",
    "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header.",
}


class EbaySandboxConfig(BaseModel):
    """eBay-specific knobs (PUT /_sandbox/ebay/config)."""

    # fraction of bulk items answered with 25025 (concurrent access), and SKUs that hit it once, deterministically
    concurrent_access_rate: float = Field(0.0, ge=0, le=1)
    concurrent_access_skus: list[str] = Field(default_factory=list)
    token_ttl_seconds: int = Field(7200, ge=1)
    max_quantity: int = Field(1_000_000, ge=1)  # above this a quantity is refused as invalid


class EbayError(Exception):
    def __init__(
        self,
        status: int,
        error_id: int,
        message: str,
        *,
        domain: str = "API_INVENTORY",
        category: str = "REQUEST",
        parameters: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        key: str = "errors",
        long_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.key = key
        self.body = error_body(
            error_id,
            message,
            domain=domain,
            category=category,
            parameters=parameters,
            long_message=long_message,
        )

    def response(self) -> JSONResponse:
        return JSONResponse({self.key: self.body}, status_code=self.status, headers=self.headers)


def error_body(
    error_id: int,
    message: str,
    *,
    domain: str = "API_INVENTORY",
    category: str = "REQUEST",
    parameters: dict[str, str] | None = None,
    long_message: str | None = None,
) -> list[dict[str, Any]]:
    """eBay's ErrorDetailV3: `longMessage` is there on every error eBay answers (clients show it to people); where
    eBay's text is not known it repeats `message`, which is what eBay does for most request errors."""
    e: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "category": category,
        "message": message,
        "longMessage": long_message or message,
    }
    if parameters:
        e["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return [e]


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    """Faults injected by the shared middleware, in eBay's shape."""
    if status == 429:
        body = error_body(
            2001, "Too many requests. The request limit has been reached for the resource.", domain="ACCESS"
        )
    else:
        body = error_body(25001, f"A system error has occurred. {message}", category="APPLICATION")
    return json.dumps({"errors": body}).encode(), {}


def now_iso() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass
class EbaySandbox:
    state: SandboxState
    emitter: WebhookEmitter
    config: EbaySandboxConfig = field(default_factory=EbaySandboxConfig)
    _tokens: dict[str, tuple[str, str, float]] = field(
        default_factory=dict
    )  # token -> (kind, client, expiry)

    @property
    def db(self) -> Any:
        return self.state.store

    # ---- OAuth ------------------------------------------------------------------------------------------------
    def mint(self, kind: str, client_id: str) -> tuple[str, int]:
        token = f"v^1.1#i^1#{kind[0]}^{secrets.token_urlsafe(24)}"
        ttl = self.config.token_ttl_seconds
        expires = time.time() + ttl
        self.db.execute(
            "INSERT INTO ebay_token(token, kind, client_id, expires_at) VALUES (?,?,?,?)",
            (token, kind, client_id, expires),
        )
        self._tokens[token] = (kind, client_id, expires)
        return token, ttl

    def expire_tokens(self) -> int:
        cur = self.db.execute("UPDATE ebay_token SET expires_at = 0 WHERE expires_at > 0")
        self._tokens.clear()
        return int(cur.rowcount)

    def check_token(self, request: Request, *, kinds: tuple[str, ...] = ("user",)) -> str:
        """Returns the client id of a valid token; 401 in eBay's shape otherwise."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        entry = self._tokens.get(token)
        if entry is None and token:
            row = self.db.one("SELECT kind, client_id, expires_at FROM ebay_token WHERE token = ?", (token,))
            if row is not None:
                entry = (row["kind"], row["client_id"], row["expires_at"])
                self._tokens[token] = entry
        if (
            scheme not in ("Bearer", "IAF")
            or entry is None
            or entry[2] <= time.time()
            or entry[0] not in kinds
        ):
            raise EbayError(401, 1001, str(INVALID_TOKEN["message"]), domain="OAuth")
        return entry[1]

    def throttle(self, api: str, client_id: str) -> None:
        lim = limit_for(api)
        # Same average rate as the adapter's bucket, twice its burst: eBay's quotas are daily, so a client that
        # keeps the average must not be punished for arrival jitter (requests queued behind a slow one bunch up).
        wait = self.state.take(f"{api}:{client_id}", rate=lim.rate, burst=2 * lim.burst)
        if wait is not None:
            raise EbayError(
                429,
                2001,
                "Too many requests. The request limit has been reached for the resource.",
                domain="ACCESS",
                headers={"retry-after": str(max(1, round(wait + 0.5)))},
            )

    def guard(self, request: Request, api: str = "inventory", kinds: tuple[str, ...] = ("user",)) -> str:
        client = self.check_token(request, kinds=kinds)
        self.throttle(api, client)
        return client

    # ---- faults specific to eBay ------------------------------------------------------------------------------
    def concurrent_access(self, sku: str) -> bool:
        """25025: the SKU is locked by another of the seller's requests. Listed SKUs hit it once."""
        if sku in self.config.concurrent_access_skus:
            self.config.concurrent_access_skus.remove(sku)
            return True
        return (
            self.config.concurrent_access_rate > 0
            and self.state.rng.random() < self.config.concurrent_access_rate
        )


def concurrent_access_error() -> list[dict[str, Any]]:
    return error_body(
        25025,
        "Concurrent access of Inventory or InventoryItemGroup. Please try again later",
        category="APPLICATION",
    )
