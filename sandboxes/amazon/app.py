"""The Amazon SP-API sandbox app: `create_app(settings)` for `merchflow sandboxes` / `make up` and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS
from merchflow.settings import Settings
from sandboxes.amazon import (
    admin,
    auth,
    catalog,
    consent,
    definitions,
    feeds,
    listings,
    market,
    order_acks,
    orders,
    search,
)
from sandboxes.amazon.common import (
    AmazonKnobs,
    AmazonSandbox,
    RequestIdMiddleware,
    SpApiError,
    handle_http_error,
    handle_sp_error,
    handle_unexpected_error,
    handle_validation_error,
    render_error,
)
from sandboxes.amazon.pending import PENDING_SCHEMA, apply_due_writes
from sandboxes.amazon.store import SCHEMA, get_listing, seed_demo
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.middleware import MUTATING
from sandboxes.common.pages import ProductLookup, product_pages_router
from sandboxes.common.state import SandboxState, WebhookTarget, faults_from_settings
from sandboxes.common.webhooks import WebhookEmitter

log = structlog.get_logger("sandboxes.amazon")

MARKETPLACE_ID = "ATVPDKIKX0DER"  # amazon.com
TICK_SECONDS = 0.05


def is_mutating(method: str, path: str, _body: bytes) -> bool:
    """Token requests and fee estimates are POSTs that change nothing."""
    if method not in MUTATING:
        return False
    return not (path.startswith("/auth/") or path.startswith("/products/fees/"))


def _page_lookup(store: Any) -> ProductLookup:
    """Public product pages for the competitor scraper, from the seller's live listings."""

    def lookup(sku: str) -> dict[str, Any] | None:
        row = get_listing(store, sku)
        if row is None or row["price"] is None:
            return None
        ids = {**json.loads(row["identifiers"] or "{}"), "asin": row["asin"]}
        return {
            "title": row["title"],
            "price": str(row["price"]),
            "currency": row["currency"],
            "identifiers": ids,
        }

    return lookup


def create_app(settings: Settings, **knobs: Any) -> FastAPI:
    """`knobs` override AmazonKnobs (token_ttl_seconds, feed_queue_seconds, feed_progress_seconds, ...)."""
    holder: dict[str, AmazonSandbox] = {}

    def routers(state: SandboxState, emitter: WebhookEmitter) -> list[APIRouter]:
        sbx = AmazonSandbox(
            state=state,
            emitter=emitter,
            knobs=AmazonKnobs(**knobs),
            seller_id=SANDBOX_CREDENTIALS["seller_id"],
            marketplace_id=MARKETPLACE_ID,
            client_id=SANDBOX_CREDENTIALS["client_id"],
            client_secret=SANDBOX_CREDENTIALS["client_secret"],
            refresh_token=SANDBOX_CREDENTIALS["refresh_token"],
            relay_secret=SANDBOX_CREDENTIALS["relay_secret"],
            default_public_url=settings.sandbox.base_url("amazon"),
        )
        holder["sbx"] = sbx
        return [
            auth.router(sbx),
            consent.router(sbx),
            listings.router(sbx),
            search.router(sbx),
            feeds.router(sbx),
            catalog.router(sbx),
            definitions.router(sbx),
            orders.router(sbx),
            order_acks.router(sbx),
            admin.router(sbx),
            market.router(sbx),
        ]

    s = settings.sandbox
    app = build_sandbox_app(
        name="amazon",
        title="Amazon Selling Partner API sandbox",
        db_path=settings.data_dir / "sandboxes" / "amazon.db",
        schema=SCHEMA + PENDING_SCHEMA + market.MARKET_SCHEMA,
        routers=routers,
        render_error=render_error,
        is_mutating=is_mutating,
        faults=faults_from_settings(s),
        webhook=WebhookTarget(
            url=f"{s.webhook_base_url or settings.base_url}/api/v1/webhooks/amazon/sandbox"
        ),
        reset=lambda state: state._buckets.clear(),
    )
    sbx = holder["sbx"]
    app.state.amazon = sbx
    app.add_exception_handler(SpApiError, handle_sp_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
    app.add_middleware(RequestIdMiddleware)
    seed_demo(sbx.state.store)
    app.include_router(product_pages_router(_page_lookup(sbx.state.store), shop_name="Amazon sandbox"))

    # Under a server with a lifespan (uvicorn), feeds progress on their own; in-process (httpx.ASGITransport)
    # they progress whenever someone polls getFeed / getFeeds.
    ticker: dict[str, asyncio.Task[None]] = {}

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                feeds.advance_feeds(sbx)
                apply_due_writes(sbx)
            except Exception:  # keep the ticker alive; polls will surface the problem again
                log.exception("amazon sandbox feed processing failed")

    async def start() -> None:
        ticker["task"] = asyncio.get_running_loop().create_task(tick())

    async def stop() -> None:
        task = ticker.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.on_startup.append(start)
    app.router.on_shutdown.insert(0, stop)
    return app
