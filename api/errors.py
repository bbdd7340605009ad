"""One JSON error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


# A 422 lists at most this many problems (then how many more there were): a body with 100,000 bad fields must
# not come back as a multi-megabyte error.
MAX_ERROR_DETAILS = 20
_MAX_DETAIL_CHARS = 300

DESCRIPTIONS = {
    400: "The request could not be read (e.g. a malformed multipart body)",
    401: "No valid API token (`Authorization: Bearer <token>`)",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Conflict with the current state (a version moved, a closed decision)",
    413: "The body is larger than this route accepts",
    415: "The body's media type is not one this route reads",
    422: "The request is not valid: each problem is in `error.details`",
    503: "A service this route needs (Temporal) is not reachable; try again shortly",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/ErrorBody"}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each with the one error schema."""
    return {
        code: {
            "description": DESCRIPTIONS.get(code, "Error"),
            "content": {"application/json": {"schema": ERROR_SCHEMA_REF}},
        }
        for code in codes
    }


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.details, self.headers = status, message, details, headers
        self.code = code or _CODES.get(status, "error")


def capped(items: list[Any], limit: int = MAX_ERROR_DETAILS) -> tuple[list[Any], int]:
    """The first `limit` items and how many were left out."""
    return items[:limit], max(0, len(items) - limit)


def validation_details(errors: list[Any]) -> list[dict[str, str]]:
    shown, omitted = capped(list(errors))
    details = [
        {
            "location": ".".join(str(p) for p in err.get("loc", ()))[:_MAX_DETAIL_CHARS],
            "message": str(err.get("msg", ""))[:_MAX_DETAIL_CHARS],
        }
        for err in shown
    ]
    if omitted:
        details.append({"location": "", "message": f"... and {omitted} more problems"})
    return details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        details = None if isinstance(exc.detail, str) else exc.detail
        return JSONResponse(
            error_body(_CODES.get(exc.status_code, "error"), message, details),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        return JSONResponse(error_body("validation_error", "request is not valid", details), status_code=422)

    # Errors no handler takes are logged and answered by api.middleware.RequestGuard, exactly once.
