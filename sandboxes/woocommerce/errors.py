"""Errors in WordPress / WooCommerce REST shape: {"code", "message", "data": {"status", ...}}."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

STATUS_CODES = {
    429: "rate_limit_exceeded",  # hosts and the Store API use this wording; Woo core has no rate limit
    500: "internal_server_error",
    502: "http_request_failed",
    503: "http_request_failed",
    504: "http_request_failed",
}


class WooError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def response(self) -> Response:
        return json_response(self.body(), status=self.status, headers=self.headers)


# WordPress's code for each kind of schema refusal (rest_validate_value_from_schema), keyed by its message wording
DETAIL_CODES = (
    ("is not of type", "rest_invalid_type"),
    ("is not one of", "rest_not_in_enum"),
    ("is a required property", "rest_property_required"),
    ("must be", "rest_out_of_bounds"),
    ("Invalid date", "rest_invalid_date"),
)


def invalid_param(name: str, reason: str) -> WooError:
    """WordPress's answer to a parameter that fails its schema: `params` holds the message per parameter and
    `details` the underlying error (code, message, data) per parameter, as WordPress >= 5.7 sends them."""
    code = next((c for words, c in DETAIL_CODES if words in reason), "rest_invalid_param")
    return WooError(
        400,
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        data={"params": {name: reason}, "details": {name: {"code": code, "message": reason, "data": None}}},
    )


def invalid_id(kind: str, status: int = 400) -> WooError:
    """Woo answers an unknown id with 404 on reads and 400 on writes; `kind` is "product", "shop_order", ..."""
    return WooError(status, f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.")


def json_response(payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    """For the shared fault middleware (injected 429 / 5xx / timeouts)."""
    code = STATUS_CODES.get(status, "rest_error")
    body = {"code": code, "message": message, "data": {"status": status}}
    return json.dumps(body).encode(), {}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(WooError)
    async def _woo(_: Request, exc: WooError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(
            "/wp-json"
        ):  # a non-numeric id does not match WP's (?P<id>[\\d]+) route
            return WooError(
                404, "rest_no_route", "No route was found matching the URL and request method."
            ).response()
        return json_response({"detail": jsonable_encoder(exc.errors())}, status=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and request.url.path.startswith("/wp-json"):
            # WordPress has no 405: an unknown path or method is one "no route"
            return WooError(
                404, "rest_no_route", "No route was found matching the URL and request method."
            ).response()
        return json_response({"detail": exc.detail}, status=exc.status_code)
