"""The Shopify sandbox: Admin GraphQL 2025-01 at the real path, the client-credentials token endpoint, the demo
shop's persistent state, Shopify's cost-based throttling, idempotent replays, and signed webhooks.

Idempotency: Admin GraphQL 2025-01 has no idempotency argument or directive (the `@idempotent` directive came in a
later version), so clients send the key as an `Idempotency-Key` header; the sandbox answers a repeated mutation with
the same key with the first result, without applying it again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from merchflow.settings import Settings
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.grants import grants_of
from sandboxes.common.pages import ProductLookup, product_pages_router
from sandboxes.common.state import (
    FaultConfig,
    SandboxState,
    WebhookTarget,
    current_idempotency_key,
    faults_from_settings,
)
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.shopify import bulk, consent, db
from sandboxes.shopify.executor import Executor, is_mutation
from sandboxes.shopify.sandbox_routes import sandbox_router
from sandboxes.shopify.schema import API_VERSION
from sandboxes.shopify.webhooks import emit

GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - a URL path
# The sandbox app's credentials (client credentials grant); the adapter ships the same as SANDBOX_CREDENTIALS.
CLIENT_ID = "merchflow-sandbox-client-id"
CLIENT_SECRET = "merchflow-sandbox-client-secret"  # noqa: S105 - public sandbox value
SCOPES = (
    "read_products,write_products,read_inventory,write_inventory,read_orders,write_orders,read_all_orders"
)
TOKEN_TTL_SECONDS = 86399
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105 - an error message


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    """Shopify's error shape outside GraphQL: {"errors": "<message>"} (429s also carry Retry-After)."""
    return json.dumps({"errors": message}).encode(), {}


def _is_mutating(method: str, path: str, body: bytes) -> bool:
    if method != "POST" or not path.endswith("/graphql.json"):
        return False
    try:
        return is_mutation(str(json.loads(body).get("query") or ""))
    except (ValueError, AttributeError):
        return False


class TokenRequest(BaseModel):
    grant_type: str = ""
    client_id: str = ""
    client_secret: str = ""
    code: str = ""  # authorization code grant (app installation, sandboxes/shopify/consent.py): no grant_type


def api_router(state: SandboxState, emitter: WebhookEmitter, executor: Executor) -> APIRouter:
    r = APIRouter()
    store = state.store
    grants = grants_of(state)

    def uninstall(tokens: list[str]) -> None:
        store.execute(f"DELETE FROM shp_token WHERE token IN ({','.join('?' * len(tokens))})", tokens)

    grants.on_revoke(uninstall)

    def offline_token(form: TokenRequest) -> JSONResponse:
        code = grants.redeem_code(form.code, client_id=form.client_id)
        if code is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "The authorization code was not found or was already used"},
                status_code=400,
            )  # fmt: skip
        token = grants.issue(
            "access", client_id=form.client_id, scope=code["scope"], parent=code["token"], prefix="shpat_"
        )
        store.execute(
            "INSERT INTO shp_token(token, client_id, expires_at) VALUES (?,?,?)",
            (token, form.client_id, 1e12),
        )  # offline tokens do not expire: they end when the app is uninstalled
        return JSONResponse({"access_token": token, "scope": code["scope"]})

    @r.post(TOKEN_PATH)
    async def access_token(request: Request) -> JSONResponse:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = TokenRequest.model_validate_json(raw or b"{}")
        else:
            form = TokenRequest.model_validate(dict(await request.form()))
        if form.code and not form.grant_type:
            if not (
                secrets.compare_digest(form.client_id, CLIENT_ID)
                and secrets.compare_digest(form.client_secret, CLIENT_SECRET)
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            return offline_token(form)
        if form.grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if not (
            secrets.compare_digest(form.client_id, CLIENT_ID)
            and secrets.compare_digest(form.client_secret, CLIENT_SECRET)
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=400,
            )
        token = "shpat_" + secrets.token_hex(16)
        store.execute(
            "INSERT INTO shp_token(token, client_id, expires_at) VALUES (?,?,?)",
            (token, form.client_id, time.time() + TOKEN_TTL_SECONDS),
        )
        return JSONResponse({"access_token": token, "scope": SCOPES, "expires_in": TOKEN_TTL_SECONDS})

    @r.post(GRAPHQL_PATH)
    async def graphql(request: Request) -> Response:
        bulk.runner_of(state).base_url = str(request.base_url).rstrip(
            "/"
        )  # bulk results' URLs point back here
        token = request.headers.get("x-shopify-access-token", "")
        row = store.one("SELECT expires_at FROM shp_token WHERE token = ?", (token,)) if token else None
        if row is None or row["expires_at"] < time.time():
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
        raw = await request.body()
        try:
            payload = json.loads(raw)
            query = payload["query"]
            variables = payload.get("variables") or {}
            assert isinstance(query, str) and isinstance(variables, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        key = current_idempotency_key.get() if is_mutation(query) else None
        digest = hashlib.sha256(raw).hexdigest()
        if key:
            seen = store.one("SELECT request_sha256, response FROM shp_idempotency WHERE key = ?", (key,))
            if seen is not None:
                if seen["request_sha256"] != digest:
                    return JSONResponse(
                        {"errors": [{"message": "Idempotency key was already used with a different request",
                                     "extensions": {"code": "IDEMPOTENCY_CONCURRENT_REQUEST"}}]},
                        status_code=422,
                    )  # fmt: skip
                return Response(
                    seen["response"], media_type="application/json", headers={"x-idempotent-replay": "1"}
                )
        body, events = executor.run(query, variables, payload.get("operationName"))
        encoded = json.dumps(body, separators=(",", ":")).encode()
        if key and "data" in body and not _throttled(body):
            store.execute(
                "INSERT OR IGNORE INTO shp_idempotency(key, request_sha256, response) VALUES (?,?,?)",
                (key, digest, encoded),
            )
        for topic, event in events:
            emit(state, emitter, topic, event)
        return Response(encoded, media_type="application/json")

    return r


def _throttled(body: dict[str, Any]) -> bool:
    return any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in body.get("errors") or [])


class _Holder:
    executor: Executor | None = None


def _page_lookup(store: Any) -> ProductLookup:
    """The storefront's product pages (for the competitor scraper), from its variants."""

    def lookup(sku: str) -> dict[str, Any] | None:
        rows = db.listings_truth(store, sku, 1, 0)
        if not rows or not rows[0]["price"] or rows[0]["status"] != "ACTIVE":
            return None
        code = rows[0]["barcode"] or ""
        ids = {("ean" if len(code) == 13 else "upc"): code} if code.isdigit() else {}
        return {
            "title": rows[0]["title"] or sku,
            "price": str(rows[0]["price"]),
            "currency": "USD",
            "identifiers": ids,
        }

    return lookup


def build_app(
    *,
    db_path: Any,
    faults: FaultConfig | None = None,
    webhook: WebhookTarget | None = None,
    seed: bool = True,
) -> FastAPI:
    holder = _Holder()

    def routers(state: SandboxState, emitter: WebhookEmitter) -> list[APIRouter]:
        holder.executor = Executor(state.store, state)
        return [
            api_router(state, emitter, holder.executor),
            consent.router(state, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
            bulk.results_router(state),
            sandbox_router(state, emitter, holder.executor),
        ]

    def reset(state: SandboxState) -> None:
        state.store.execute("DELETE FROM shp_idempotency")
        if holder.executor is not None:
            holder.executor.bucket = type(holder.executor.bucket)()

    app = build_sandbox_app(
        name="shopify",
        title="Shopify Admin GraphQL sandbox",
        db_path=db_path,
        schema=db.SCHEMA,
        routers=routers,
        render_error=render_error,
        is_mutating=_is_mutating,
        faults=faults,
        webhook=webhook or WebhookTarget(secret=CLIENT_SECRET),
        reset=reset,
    )
    app.state.executor = holder.executor

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Routing answers in Shopify's REST error shape ({"errors": "Not Found"}); /_sandbox keeps FastAPI's."""
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse({"errors": message}, status_code=exc.status_code)

    app.include_router(
        product_pages_router(_page_lookup(app.state.sandbox.store), shop_name="Shopify sandbox")
    )
    if seed:
        db.seed_demo(app.state.sandbox.store)
    return app


def create_app(settings: Settings) -> FastAPI:
    sb = settings.sandbox
    faults = faults_from_settings(sb)
    target = f"{sb.webhook_base_url or settings.base_url}/api/v1/webhooks/shopify/sandbox"
    return build_app(
        db_path=settings.data_dir / "sandboxes" / "shopify.db",
        faults=faults,
        webhook=WebhookTarget(url=target, secret=CLIENT_SECRET),
    )
