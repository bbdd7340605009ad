"""Where the marketplaces send the seller back after consent (no bearer token: the `state` nonce is the proof), and
where WooCommerce posts the keys it created. The seller sees a page saying what happened, in plain words."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse

from activities.accounts import connect
from activities.accounts.repository import AccountError
from api.accounts.routes import _sync_on_connect
from api.web.render import render
from connectors.errors import ConnectorError
from domain.accounts.connect import ConnectRefused
from merchflow.logging import get_logger

router = APIRouter(prefix="/api/v1/accounts/connect", include_in_schema=False)
log = get_logger(__name__)


def _page(
    request: Request, outcome: connect.ConnectOutcome | None, *, error: str | None = None
) -> HTMLResponse:
    ok = outcome is not None and outcome.ok
    message = error or (outcome.message if outcome else "")
    status = 200 if ok else 400
    return render(
        request, "accounts/connect_result.html", {"ok": ok, "message": message, "outcome": outcome}, status
    )


async def _finish(request: Request, work: Any) -> HTMLResponse:
    settings = request.app.state.settings
    try:
        outcome: connect.ConnectOutcome = await work
    except ConnectRefused as exc:
        log.warning("connect callback refused", error=str(exc))
        return _page(request, None, error=str(exc))
    except (AccountError, connect.ConnectUnavailable, ConnectorError) as exc:
        return _page(request, None, error=str(exc))
    if outcome.ok and outcome.account_id is not None:
        await _sync_on_connect(request, settings, outcome.account_id)  # joins the one the keys started (Woo)
    return _page(request, outcome)


@router.get("/{marketplace}/callback", response_class=HTMLResponse)
async def oauth_callback(
    request: Request, marketplace: Annotated[Literal["amazon", "ebay", "shopify"], Path()]
) -> HTMLResponse:
    engine, settings = request.app.state.engine, request.app.state.settings
    params = list(request.query_params.multi_items())
    return await _finish(request, connect.finish(engine, settings, marketplace=marketplace, params=params))


@router.post("/woocommerce/keys")
async def woocommerce_keys(request: Request) -> JSONResponse:
    """The store's server posts {key_id, user_id, consumer_key, consumer_secret, key_permissions}."""
    try:
        payload = await request.json()
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError:
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    engine, settings = request.app.state.engine, request.app.state.settings
    try:
        outcome = await asyncio.to_thread(connect.woo_keys, engine, settings, payload)
    except (ConnectRefused, AccountError) as exc:
        log.warning("woocommerce keys refused", error=str(exc))
        return JSONResponse({"error": str(exc)}, status_code=400)
    if outcome.ok and outcome.account_id is not None:
        await _sync_on_connect(request, settings, outcome.account_id)
    return JSONResponse({"connected": outcome.ok})


@router.get("/woocommerce/return", response_class=HTMLResponse)
async def woocommerce_return(request: Request, success: str = "0", user_id: str = "") -> HTMLResponse:
    engine = request.app.state.engine

    async def work() -> connect.ConnectOutcome:
        return await asyncio.to_thread(connect.woo_return, engine, state=user_id, success=success == "1")

    return await _finish(request, work())
