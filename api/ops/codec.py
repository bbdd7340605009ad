"""The codec server for the Temporal Web UI (Temporal's remote codec protocol): POST /codec/encode and
/codec/decode take and return `{"payloads": [...]}` in protobuf JSON, so operators read encrypted payloads in
the UI while Temporal itself only ever stores ciphertext.

Authenticated: an API token of an operator or admin (`Authorization: Bearer`, the UI's "pass access token"), or
the web session cookie of an operator or admin logged in to the approval pages (the UI's "include cross-origin
credentials"). Browsers call it from the UI's origin, so CORS allows exactly the configured UI origins.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.errors import ApiError, error_body, error_responses
from api.routing import ApiRoute
from merchflow.crypto.codec import EncryptionCodec, codec_from_settings
from merchflow.crypto.keyring import KeyringError
from merchflow.db.engine import read_session
from merchflow.settings import Settings
from merchflow.tokens import lookup_token

router = APIRouter(prefix="/codec", tags=["operations"], route_class=ApiRoute)

ROLES = frozenset({"admin", "operator"})
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
MAX_BODY = 8 * 1024 * 1024  # a page of history payloads; Temporal's own payload limit is 2 MB each


def ui_origins(settings: Settings) -> set[str]:
    cfg = settings.codec.ui_origins
    if cfg:
        return {o.rstrip("/") for o in cfg}
    t = settings.temporal
    hosts = {t.host, "localhost", "127.0.0.1"} if t.host in ("127.0.0.1", "localhost") else {t.host}
    return {f"http://{h}:{t.ui_port}" for h in hosts}


def _cors(request: Request, response: Response) -> Response:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in ui_origins(request.app.state.settings):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
    return response


def _refuse(request: Request, status: int, message: str) -> Response:
    # the API's one error shape, with the CORS headers the UI's origin needs to read it
    code = ApiError(status, message).code
    return _cors(request, JSONResponse(error_body(code, message), status_code=status))


def _caller_role(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        with read_session(request.app.state.engine) as session:
            user = lookup_token(session, token.strip())
        return user.role if user is not None else None
    if request.cookies:
        from api.web.session import get_web_session

        ws = get_web_session(request)
        return ws.user.role if ws.user is not None else None
    return None


def _codec(request: Request) -> EncryptionCodec:
    state = request.app.state
    if not hasattr(state, "codec"):
        state.codec = codec_from_settings(state.settings.codec)
    if state.codec is None:
        raise ApiError(404, "payload encryption is off (no MERCHFLOW_CODEC__KEYS__<id> configured)")
    return state.codec  # type: ignore[no-any-return]


@router.options("/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request) -> Response:
    # preflights carry no credentials by design: answer them without authentication
    return _cors(request, Response(status_code=204))


@router.post(
    "/{operation}",
    summary="Encode or decode Temporal payloads (remote codec protocol)",
    responses=error_responses(400, 401, 403, 404, 413),
)
async def transcode(operation: str, request: Request) -> Response:
    role = _caller_role(request)  # who is asking comes first, as on every API route
    if role is None:
        refused = _refuse(request, 401, "authentication required")
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    if operation not in ("encode", "decode"):
        return _refuse(request, 404, "unknown codec operation")
    if role not in ROLES:
        return _refuse(request, 403, f"role '{role}' may not decode payloads")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _refuse(request, 413, "body too large")
    codec = _codec(request)
    try:
        payloads = json_format.Parse(body or b"{}", Payloads())
        coded = codec.encode_one if operation == "encode" else codec.decode_one
        out = Payloads(payloads=[coded(p) for p in payloads.payloads])
    except json_format.ParseError as exc:
        return _refuse(request, 400, f"not a Payloads JSON document: {str(exc)[:200]}")
    except KeyringError as exc:
        return _refuse(request, 422, str(exc))
    doc: dict[str, Any] = json_format.MessageToDict(out)
    return _cors(request, JSONResponse(doc))
