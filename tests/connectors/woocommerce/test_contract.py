"""Every kind of request the adapter makes, in one run, checked against wc_rest_v3.schema.json.

The schema is our reading of the public WooCommerce REST API v3 docs (Woo publishes no OpenAPI document), so it
lives with these tests rather than in ../shared/specs. Every other test in this folder is checked the same way by
the Recorder; this one makes sure no route the adapter uses escapes the check."""

from __future__ import annotations

import re
from decimal import Decimal

from connectors.marketplace.types import ListingDraft, PriceUpdate, QuantityUpdate
from tests.connectors.woocommerce.conftest import Sandbox
from tests.connectors.woocommerce.contract import PREFIX, ROUTES


def _route_of(method: str, path: str) -> str:
    rest = path[len(PREFIX) :]
    return next(f"{m} {p}" for m, p, *_ in ROUTES if m == method and re.fullmatch(p, rest))


async def test_every_adapter_route_is_checked_against_the_contract(sandbox: Sandbox) -> None:
    await sandbox.seed(
        [{"sku": f"C-{i}", "title": "c", "price": "4.00", "quantity": 2} for i in range(5)]
        + [
            {"sku": f"CV-{i}", "title": "cv", "price": "6.00", "quantity": 2, "parent_sku": "CP"}
            for i in range(3)
        ]
    )
    await sandbox.buy("C-1", 1)
    mp = sandbox.adapter()
    auth_fallback = sandbox.adapter(options={"auth": "query"})
    await auth_fallback.list_listings()
    cursor = None
    while True:
        page = await mp.list_listings(cursor, page_size=7)
        if not (cursor := page.next_cursor):
            break
    fresh = sandbox.adapter()  # cold cache: SKU lookups
    await fresh.set_quantities(
        [QuantityUpdate(sku=s, quantity=9) for s in ("C-0", "CV-1", "ZZ")], idempotency_key="q"
    )
    await fresh.set_prices(
        [PriceUpdate(sku=s, price=Decimal("5.5")) for s in ("C-2", "CV-2")], idempotency_key="p"
    )
    draft = ListingDraft(
        sku="C-NEW", title="New", price=Decimal("3"), quantity=1, attributes={"Color": "red"}
    )
    await mp.create_listing(draft, idempotency_key="c")
    await mp.create_listing(draft, idempotency_key="c")  # exists: converges by update
    await mp.update_listing(ListingDraft(sku="CV-0", title="x", price=Decimal("7")), idempotency_key="u")
    await mp.end_listing("C-3", idempotency_key="e")
    deleting = sandbox.adapter(options={"end_mode": "delete"})
    await deleting.end_listing("C-4", idempotency_key="d")
    await deleting.end_listing("CV-2", idempotency_key="d2")
    orders = await mp.list_orders()
    await mp.cancel_order(
        orders.orders[0].order_id if orders.orders else "1", reason="r", idempotency_key="x"
    )

    used = {_route_of(m, p) for m, p, _ in sandbox.recorder.exchanges}
    assert used >= {
        r"GET /products",
        r"GET /products/(\d+)/variations",
        r"POST /products",
        r"POST /products/batch",
        r"POST /products/(\d+)/variations/batch",
        r"PUT /products/(\d+)",
        r"PUT /products/(\d+)/variations/(\d+)",
        r"DELETE /products/(\d+)",
        r"DELETE /products/(\d+)/variations/(\d+)",
        r"GET /orders",
        r"PUT /orders/(\d+)",
    }
    assert not sandbox.recorder.violations
    statuses = {s for *_, s in sandbox.recorder.exchanges}
    assert 400 in statuses  # the duplicate-SKU create: error bodies were checked too
