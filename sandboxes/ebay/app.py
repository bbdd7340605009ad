"""The local eBay: Sell Inventory, Fulfillment, Browse, Taxonomy, Post-Order and OAuth on eBay's paths, with eBay's bodies,
errors and (published daily) rate limits, persistent in SQLite, plus the /_sandbox inspection API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from merchflow.seed import DEMO_PRODUCTS
from merchflow.settings import Settings
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.pages import ProductLookup, product_pages_router
from sandboxes.common.state import SandboxState, WebhookTarget, faults_from_settings
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.ebay import (
    browse,
    consent,
    control,
    identity,
    inventory,
    market,
    offers,
    orders,
    repo,
    taxonomy,
)
from sandboxes.ebay.core import SCHEMA, EbayError, EbaySandbox, EbaySandboxConfig, error_body, render_error


def create_app(settings: Settings) -> FastAPI:
    sandbox = settings.sandbox
    holder: dict[str, EbaySandbox] = {}

    def routers(state: SandboxState, emitter: WebhookEmitter) -> Sequence[APIRouter]:
        sbx = EbaySandbox(state=state, emitter=emitter)
        holder["sbx"] = sbx
        seed_demo(sbx)
        return [
            identity.router(sbx),
            consent.router(sbx),
            inventory.router(sbx),
            offers.router(sbx),
            orders.router(sbx),
            browse.router(sbx),
            market.router(sbx),
            taxonomy.router(sbx),
            control.router(sbx),
        ]

    def reset(state: SandboxState) -> None:
        holder["sbx"].config = EbaySandboxConfig()

    app = build_sandbox_app(
        name="ebay",
        title="eBay sandbox (merchflow)",
        db_path=settings.data_dir / "sandboxes" / "ebay.db",
        schema=SCHEMA + market.MARKET_SCHEMA,
        routers=routers,
        render_error=render_error,
        faults=faults_from_settings(sandbox),
        webhook=WebhookTarget(
            url=f"{(sandbox.webhook_base_url or settings.base_url).rstrip('/')}/api/v1/webhooks/ebay/sandbox"
        ),
        reset=reset,
    )
    app.state.ebay = holder["sbx"]
    app.include_router(product_pages_router(_page_lookup(holder["sbx"]), shop_name="eBay sandbox"))

    @app.exception_handler(EbayError)
    async def ebay_error(request: Request, exc: EbayError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        message = "Resource not found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            {"errors": error_body(2002, message, domain="ACCESS")}, status_code=exc.status_code
        )

    return app


def _page_lookup(sbx: EbaySandbox) -> ProductLookup:
    """Public product pages for the competitor scraper, from the seller's offers."""

    def lookup(sku: str) -> dict[str, Any] | None:
        rows = repo.listing_truth(sbx.db, sku, 1)
        if not rows or rows[0]["price"] is None:
            return None
        item = sbx.db.one("SELECT product FROM ebay_item WHERE sku = ?", (sku,))
        product = json.loads(item["product"] or "{}") if item else {}
        ids = {k: product[k][0] for k in ("upc", "ean", "isbn") if product.get(k)}
        if product.get("mpn"):
            ids["mpn"] = product["mpn"]
        return {"title": rows[0]["title"] or sku, "price": str(rows[0]["price"]),
                "currency": rows[0]["currency"] or "USD", "identifiers": ids}  # fmt: skip

    return lookup


def seed_demo(sbx: EbaySandbox) -> None:
    """The demo catalog, inserted only where missing: a restart never resets stock or prices."""
    listings = [
        {"sku": sku, "title": name, "price": price, "quantity": on_hand, "identifiers": ids}
        for sku, name, _brand, _cat, _cost, price, on_hand, ids in DEMO_PRODUCTS
    ]
    repo.upsert_listings(sbx.db, listings, overwrite=False)
