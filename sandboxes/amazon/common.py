"""Shared pieces of the Amazon sandbox: knobs, the SP-API error shape, access-token checks and usage-plan throttling."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.marketplace.amazon.limits import FEED_TYPE_LIMITS, RATE_LIMITS
from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter

ACCESS_DENIED = "Access to requested resource is denied."


class AmazonKnobs(BaseModel):
    """Amazon-specific sandbox behaviour, changeable at run time via PUT /_sandbox/amazon/config."""

    token_ttl_seconds: float = Field(3600.0, gt=0)  # LWA access token lifetime (expires_in)
    feed_queue_seconds: float = Field(0.5, ge=0)  # time a feed stays IN_QUEUE (Amazon: minutes)
    feed_progress_seconds: float = Field(0.5, ge=0)  # time a feed stays IN_PROGRESS before its report exists
    next_token_ttl_seconds: float = Field(30.0, gt=0)  # FBA inventory nextToken lifetime
    # Real Amazon accepts a feed PATCH for an unknown SKU (and applies nothing); default: reject it with an issue
    accept_unknown_sku_patches: bool = False
    report_gzip_min_bytes: int = Field(
        64 * 1024, ge=0
    )  # larger processing reports are served GZIP-compressed
    document_url_ttl_seconds: float = Field(
        300.0, gt=0
    )  # presigned feed document URLs expire after 5 minutes
    # put / patch / deleteListingsItem answer ACCEPTED and apply this much later (real Amazon: asynchronously,
    # usually within minutes); 0 applies at once, which keeps the default sandbox fast
    listings_processing_seconds: float = Field(0.0, ge=0)
    # Where presigned feed / report document URLs point (the S3 stand-in); empty: MERCHFLOW_SANDBOX__HOST and
    # MERCHFLOW_SANDBOX__AMAZON_PORT. Never the request's Host header, which clients set as they like.
    public_base_url: str | None = None


class SpApiError(Exception):
    """Rendered as the SP-API error list: {"errors": [{"code", "message", "details"}]}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


def error_list(code: str, message: str, details: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"errors": [err]}


def iso(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SpApiError(400, "InvalidInput", f"Invalid date-time '{value}'.") from None


def csv_param(request: Request, name: str) -> list[str]:
    """SP-API arrays are comma-delimited (collectionFormat csv); repeated parameters are accepted too."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out += [v for v in raw.split(",") if v]
    return out


@dataclass
class AmazonSandbox:
    state: SandboxState
    emitter: WebhookEmitter
    knobs: AmazonKnobs
    seller_id: str
    marketplace_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    relay_secret: str
    currency: str = "USD"
    default_public_url: str = "http://127.0.0.1:8701"
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (monotonic)
    doc_secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    tokens_issued: int = 0

    # ---- LWA access tokens ---------------------------------------------------------------------------------------
    def issue_token(self) -> tuple[str, int]:
        now = time.monotonic()
        for tok in [t for t, exp in self.tokens.items() if exp < now - 3600]:
            del self.tokens[tok]
        token = "Atza|" + secrets.token_urlsafe(24)
        ttl = self.knobs.token_ttl_seconds
        self.tokens[token] = now + ttl
        self.tokens_issued += 1
        return token, max(1, math.ceil(ttl))

    def check_token(self, request: Request) -> None:
        token = request.headers.get("x-amz-access-token")
        expiry = self.tokens.get(token or "")
        if expiry is None:
            raise SpApiError(
                403,
                "Unauthorized",
                ACCESS_DENIED,
                "The access token you provided is revoked, malformed or invalid.",
            )
        if expiry < time.monotonic():
            raise SpApiError(403, "Unauthorized", ACCESS_DENIED, "The access token you provided has expired.")

    def check_seller(self, seller_id: str) -> None:
        if seller_id != self.seller_id:
            raise SpApiError(
                403, "Unauthorized", ACCESS_DENIED, "The seller is not authorized for this application."
            )

    def check_marketplace(self, ids: list[str]) -> None:
        if not ids:
            raise SpApiError(400, "InvalidInput", "Missing required 'marketplaceIds'.")
        if any(m != self.marketplace_id for m in ids):
            raise SpApiError(400, "InvalidInput", f"Invalid marketplaceIds: {','.join(ids)}.")

    # ---- usage plans ---------------------------------------------------------------------------------------------
    def throttle(self, operation: str) -> dict[str, str]:
        rate, burst = RATE_LIMITS[operation]
        self._take(operation, rate, burst)
        return {"x-amzn-RateLimit-Limit": f"{rate:g}"}

    def throttle_feed_type(self, feed_type: str) -> None:
        if feed_type in FEED_TYPE_LIMITS:
            rate, burst = FEED_TYPE_LIMITS[feed_type]
            self._take(f"feedType:{feed_type}", rate, burst)

    def _take(self, key: str, rate: float, burst: float) -> None:
        wait = self.state.take(f"{self.seller_id}:{key}", rate=rate, burst=burst)
        if wait is not None:
            raise SpApiError(
                429,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
                headers={"retry-after": str(max(1, math.ceil(wait)))},
            )

    def guard(self, request: Request, operation: str) -> dict[str, str]:
        """Every SP-API call: a valid access token first, then the operation's usage plan."""
        self.check_token(request)
        return self.throttle(operation)

    # ---- presigned document URLs (S3 stand-in) --------------------------------------------------------------------
    def presign(self, kind: str, doc_id: str) -> str:
        expires = int(time.time() + self.knobs.document_url_ttl_seconds)
        sig = self._doc_sig(kind, doc_id, expires)
        base = (self.knobs.public_base_url or self.default_public_url).rstrip("/")
        return f"{base}/sandbox-s3/{kind}/{doc_id}?X-Amz-Expires={expires}&X-Amz-Signature={sig}"

    def check_presigned(self, kind: str, doc_id: str, expires: str | None, sig: str | None) -> None:
        try:
            exp = int(expires or "")
        except ValueError:
            exp = 0
        if not sig or not hmac.compare_digest(sig, self._doc_sig(kind, doc_id, exp)):
            raise SpApiError(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
            )
        if exp < time.time():
            raise SpApiError(403, "AccessDenied", "Request has expired.")

    def _doc_sig(self, kind: str, doc_id: str, expires: int) -> str:
        return hmac.new(self.doc_secret, f"{kind}:{doc_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def sp_error_response(exc: SpApiError) -> JSONResponse:
    return JSONResponse(
        error_list(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


async def handle_sp_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpApiError)
    return sp_error_response(exc)


async def handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 is not an SP-API answer: invalid parameters are a 400 InvalidInput."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return sp_error_response(
        SpApiError(
            400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed.", where
        )
    )


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Routing answers (unknown path, wrong method) in the SP-API ErrorList shape too: a client reading `errors`
    must never take a 404 for a success. /_sandbox keeps FastAPI's own shape."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/_sandbox"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    code, message = _HTTP_ERRORS.get(exc.status_code, ("InvalidInput", str(exc.detail)))
    return sp_error_response(SpApiError(exc.status_code, code, message, headers=dict(exc.headers or {})))


async def handle_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    return sp_error_response(SpApiError(500, "InternalFailure", "We encountered an internal error."))


_HTTP_ERRORS = {
    404: ("NotFound", "The requested resource was not found."),
    405: ("MethodNotAllowed", "The HTTP method is not allowed for this resource."),
    415: ("UnsupportedMediaType", "The request's content type is not supported."),
}

_ERROR_CODES = {
    429: "QuotaExceeded",
    500: "InternalFailure",
    503: "ServiceUnavailable",
    504: "RequestTimeout",
}


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    """Faults injected by the shared middleware, in the SP-API error shape."""
    import json

    code = _ERROR_CODES.get(status, "InternalFailure")
    if status == 429:
        message = "You exceeded your quota for the requested resource."
    return json.dumps(error_list(code, message)).encode(), {"x-amzn-RequestId": str(uuid.uuid4())}


class RequestIdMiddleware:
    """Every SP-API answer carries x-amzn-RequestId (also the faults injected further in)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-amzn-requestid" for k, _ in headers):
                    headers.append((b"x-amzn-requestid", str(uuid.uuid4()).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)
