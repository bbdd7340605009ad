"""Sandbox-only endpoints under /_sandbox (outside fault injection): bulk seeding, a customer buying, the current
truth for tests, and the site's knobs."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sandboxes.common import extras
from sandboxes.woocommerce.catalog import GTIN
from sandboxes.woocommerce.db import now
from sandboxes.woocommerce.errors import WooError
from sandboxes.woocommerce.site import WooSandboxConfig, WooSite


class SeedListing(BaseModel):
    sku: str
    title: str = ""
    price: str = "10.00"
    quantity: int = 0
    identifiers: dict[str, str] = Field(default_factory=dict)
    parent_sku: str | None = None  # seed as a variation of this variable product (created if missing)


class SeedRequest(BaseModel):
    listings: list[SeedListing]
    replace: bool = False


class BuyRequest(BaseModel):
    sku: str
    quantity: int = Field(1, gt=0)
    order_id: str | None = None  # the order's `number`; repeating it returns the same order


def seed(site: WooSite, listings: list[SeedListing], *, replace: bool = False) -> int:
    """executemany inserts; an existing SKU is left as it is (seeding is idempotent)."""
    ts = now()
    store = site.state.store
    with store.tx() as conn:
        if replace:
            conn.execute("DELETE FROM wc_product")
        parents = {x.parent_sku for x in listings if x.parent_sku}
        conn.executemany(
            "INSERT OR IGNORE INTO wc_product(type, sku, name, date_created, date_modified) VALUES ('variable',?,?,?,?)",
            [(p, p, ts, ts) for p in sorted(parents)],
        )
        ids = {}
        if parents:
            marks = ",".join("?" * len(parents))
            ids = dict(
                conn.execute(
                    f"SELECT sku, id FROM wc_product WHERE sku IN ({marks})", sorted(parents)
                ).fetchall()
            )
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO wc_product(parent_id, type, sku, name, regular_price, manage_stock, stock_quantity, "
            "global_unique_id, attributes, meta_data, date_created, date_modified) VALUES (?,?,?,?,?,1,?,?,?,?,?,?)",
            [_seed_row(x, ids.get(x.parent_sku or ""), ts) for x in listings],
        )
        return conn.total_changes - before


def _seed_row(x: SeedListing, parent_id: int | None, ts: str) -> tuple[Any, ...]:
    gtin = next((x.identifiers[t] for t in GTIN if x.identifiers.get(t)), "")
    meta = [{"key": f"_merchflow_{k}", "value": v} for k, v in sorted(x.identifiers.items()) if v != gtin]
    attrs = [{"id": 0, "name": "Option", "option": x.sku}] if parent_id else []
    kind = "variation" if parent_id else "simple"
    return (
        parent_id or 0,
        kind,
        x.sku,
        x.title,
        x.price,
        x.quantity,
        gtin,
        json.dumps(attrs),
        json.dumps(meta),
        ts,
        ts,
    )


def control_router(site: WooSite) -> APIRouter:
    r = APIRouter(prefix="/_sandbox", tags=["woocommerce sandbox"])

    @r.post("/seed")
    async def post_seed(req: SeedRequest) -> dict[str, int]:
        n = seed(site, req.listings, replace=req.replace)
        return extras.seeded(n, created=n)  # "created": what older callers read

    @r.post("/orders", status_code=201)
    async def post_order(req: BuyRequest) -> Any:
        try:
            order, created = site.sales.place(req.sku, req.quantity, req.order_id)
        except WooError as exc:
            return exc.response()
        line = (order.get("line_items") or [{}])[0]
        sku = line.get("sku") or req.sku
        left = site.state.store.one(
            "SELECT stock_quantity FROM wc_product WHERE sku = ? AND status != 'trash'", (sku,)
        )
        return extras.order_placed(
            order_id=order["id"], sku=sku, quantity=int(line.get("quantity") or req.quantity),
            remaining=left["stock_quantity"] if left else None, created=created, extra=order,
        )  # fmt: skip

    @r.get("/listings")
    async def listings(sku: str | None = None, limit: int = 200000) -> dict[str, Any]:
        sql = (
            "SELECT id, parent_id, type, sku, name, status, regular_price, sale_price, manage_stock, stock_quantity, "
            "date_modified FROM wc_product"
        )
        args: list[Any] = []
        if sku:
            skus = sku.split(",")
            sql += f" WHERE sku IN ({','.join('?' * len(skus))})"
            args = skus
        rows = site.state.store.query(sql + " ORDER BY id LIMIT ?", [*args, limit])
        return extras.listings([_listing(dict(x), site.config.currency) for x in rows])

    @r.get("/config")
    async def get_config() -> WooSandboxConfig:
        return site.config

    @r.put("/config")
    async def put_config(cfg: WooSandboxConfig) -> WooSandboxConfig:
        site.config = cfg
        return cfg

    return r


def _listing(row: dict[str, Any], currency: str) -> dict[str, Any]:
    """The common row first; WooCommerce's own columns (id, parent_id, type, regular_price, ...) after it."""
    sku, status = row.pop("sku"), row["status"]
    return extras.listing_row(
        sku=sku, title=row.pop("name"), price=row["regular_price"], quantity=row["stock_quantity"],
        status=status, active=status == "publish", currency=currency, extra=row,
    )  # fmt: skip
