"""create_app(settings): the WooCommerce sandbox as one ASGI app (`merchflow sandboxes`, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from merchflow.seed import DEMO_PRODUCTS
from merchflow.settings import Settings
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.pages import ProductLookup, product_pages_router
from sandboxes.common.state import SandboxState, WebhookTarget, faults_from_settings
from sandboxes.woocommerce import consent
from sandboxes.woocommerce.auth import WEBHOOK_SECRET
from sandboxes.woocommerce.control import SeedListing, control_router, seed
from sandboxes.woocommerce.db import SCHEMA
from sandboxes.woocommerce.errors import install_handlers, render_error
from sandboxes.woocommerce.orders_api import orders_router
from sandboxes.woocommerce.products_api import products_router
from sandboxes.woocommerce.site import WooSandboxConfig, WooSite


def create_app(
    settings: Settings,
    *,
    db_path: Path | str | None = None,
    config: WooSandboxConfig | None = None,
    site_url: str | None = None,
) -> FastAPI:
    sb = settings.sandbox
    faults = faults_from_settings(sb)
    hook_url = f"{sb.webhook_base_url or settings.base_url}/api/v1/webhooks/woocommerce/sandbox"
    holder: dict[str, WooSite] = {}
    url = site_url or sb.base_url("woocommerce")
    cfg = config or WooSandboxConfig()

    def routers(state: SandboxState, emitter):  # type: ignore[no-untyped-def]
        site = holder["site"] = WooSite(state, emitter, cfg, url)
        return [products_router(site), orders_router(site), control_router(site), consent.router(state)]

    def reset(state: SandboxState) -> None:
        state._buckets.clear()  # a fresh host-side rate-limit window

    app = build_sandbox_app(
        name="woocommerce",
        title="WooCommerce REST API v3 sandbox",
        db_path=db_path or settings.data_dir / "sandboxes" / "woocommerce.db",
        schema=SCHEMA,
        routers=routers,
        render_error=render_error,
        faults=faults,
        webhook=WebhookTarget(url=hook_url, secret=WEBHOOK_SECRET),
        reset=reset,
    )
    install_handlers(app)
    site = holder["site"]
    app.state.woo = site
    app.include_router(product_pages_router(_page_lookup(site), shop_name="WooCommerce sandbox"))
    store = site.state.store
    if store.get_kv("demo_seeded") is None:
        demo = [
            SeedListing(sku=sku, title=name, price=price, quantity=qty, identifiers=ids)
            for sku, name, _brand, _cat, _cost, price, qty, ids in DEMO_PRODUCTS
        ]
        seed(site, demo)
        store.set_kv("demo_seeded", "1")
    return app


def _page_lookup(site: WooSite) -> ProductLookup:
    """The shop's public product pages (for the competitor scraper), from its catalogue."""

    def lookup(sku: str) -> dict[str, Any] | None:
        row = site.state.store.one(
            "SELECT name, regular_price, sale_price, global_unique_id FROM wc_product WHERE sku = ? AND status = 'publish'",
            (sku,),
        )
        price = row and (row["sale_price"] or row["regular_price"])
        if not price:
            return None
        gtin = row["global_unique_id"]
        ids = {("ean" if len(gtin) == 13 else "upc"): gtin} if gtin else {}
        return {
            "title": row["name"] or sku,
            "price": price,
            "currency": site.config.currency,
            "identifiers": ids,
        }

    return lookup
