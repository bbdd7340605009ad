"""/_sandbox/classifieds/...: seed listings (bulk), knobs, and what happened (messages, orders); plus the public
HTML pages (search results and items with schema.org JSON-LD, a robots.txt) that the scraped source reads."""

from __future__ import annotations

import html
import json
import time
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field

from sandboxes.classifieds.core import (
    Behaviour,
    ClassifiedsConfig,
    ClassifiedsError,
    ClassifiedsSandbox,
    money,
)
from sandboxes.classifieds.store import order_object

ROBOTS = "User-agent: *\nAllow: /search\nAllow: /item/\nDisallow: /v1/\nDisallow: /account/\nCrawl-delay: 1\n"


class SeedListing(BaseModel):
    id: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=500)
    description: str = ""
    price: Decimal = Field(gt=0)
    shipping: Decimal = Decimal(0)
    currency: str = "USD"
    condition: str = "used"
    category: str | None = None
    brand: str | None = None
    seller_id: str = "seller-1"
    city: str | None = None
    lat: float | None = None
    lng: float | None = None
    photos: list[dict[str, Any]] = Field(default_factory=lambda: [{"seed": 0}])
    identifiers: dict[str, str] = Field(default_factory=dict)
    behaviour: Behaviour = Field(default_factory=Behaviour)


class SeedRequest(BaseModel):
    listings: list[SeedListing]
    replace: bool = False


def control_router(sbx: ClassifiedsSandbox) -> APIRouter:
    r = APIRouter(prefix="/_sandbox/classifieds", tags=["sandbox inspection"])
    db = sbx.state.store

    @r.post("/seed")
    def seed(req: SeedRequest) -> dict[str, int]:
        with db.tx() as c:
            if req.replace:
                for table in ("cl_listing", "cl_message", "cl_order", "cl_idempotency"):
                    c.execute(f"DELETE FROM {table}")
            start = (c.execute("SELECT COALESCE(MAX(seq), 0) AS n FROM cl_listing").fetchone()["n"]) + 1
            now = time.time()
            c.executemany(
                "INSERT INTO cl_listing(id, title, description, price, shipping, currency, condition, category, brand, "
                "seller_id, city, lat, lng, photos, identifiers, behaviour, posted_at) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, "
                "price = excluded.price, status = 'active', behaviour = excluded.behaviour, photos = excluded.photos",
                [(x.id or f"L{start + i}", x.title, x.description, money(x.price), money(x.shipping), x.currency,
                  x.condition, x.category, x.brand, x.seller_id, x.city, x.lat, x.lng, json.dumps(x.photos),
                  json.dumps(x.identifiers), x.behaviour.model_dump_json(), now) for i, x in enumerate(req.listings)],
            )  # fmt: skip
        return {"seeded": len(req.listings)}

    @r.get("/config")
    def get_config() -> ClassifiedsConfig:
        return sbx.config

    @r.put("/config")
    def put_config(config: ClassifiedsConfig) -> ClassifiedsConfig:
        sbx.config = config
        return sbx.config

    @r.get("/orders")
    def orders(listing_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM cl_order", []
        if listing_id:
            sql, params = sql + " WHERE listing_id = ?", [listing_id]
        return [order_object(x) for x in db.query(sql + " ORDER BY created", params)]

    @r.get("/messages")
    def messages(listing_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM cl_message", []
        if listing_id:
            sql, params = sql + " WHERE listing_id = ?", [listing_id]
        return [dict(x) for x in db.query(sql + " ORDER BY id", params)]

    @r.post("/listings/{listing_id}/reply")
    def seller_says(listing_id: str, body: dict[str, str]) -> dict[str, Any]:
        """The seller writes (now), whatever the buyer asked: a test's scripted answer. `agrees_to`: the price the
        seller now accepts at checkout (what a person's "ok, deal" means to the site)."""
        row = db.one("SELECT * FROM cl_listing WHERE id = ?", (listing_id,))
        if row is None:
            raise ClassifiedsError(404, "not_found", f"no listing {listing_id}")
        if body.get("agrees_to"):
            try:
                agreed = Decimal(str(body["agrees_to"]))
            except ArithmeticError as exc:
                raise ClassifiedsError(400, "invalid", "agrees_to is not an amount") from exc
            b = sbx.behaviour(row)
            b.agreed = agreed if b.agreed is None else min(b.agreed, agreed)
            sbx.save_behaviour(listing_id, b)
        return sbx.post_seller_message(listing_id, str(body.get("text", ""))[:2000])

    @r.post("/orders/{order_id}/cancel")
    def seller_cancels(order_id: str) -> dict[str, Any]:
        """The seller cancels a paid order (never ships it): webhook `order.cancelled`."""
        row = db.one("SELECT * FROM cl_order WHERE id = ?", (order_id,))
        if row is None:
            raise ClassifiedsError(404, "not_found", f"no order {order_id}")
        db.execute(
            "UPDATE cl_order SET status = 'cancelled', updated = ? WHERE id = ?", (time.time(), order_id)
        )
        out = order_object(db.one("SELECT * FROM cl_order WHERE id = ?", (order_id,)))
        sbx.webhook("order.cancelled", {"order": out})
        return out

    return r


def pages_router(sbx: ClassifiedsSandbox) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    db = sbx.state.store

    def offer_ld(row: Any) -> dict[str, Any]:
        ids = json.loads(row["identifiers"])
        item: dict[str, Any] = {
            "@type": "Product",
            "name": row["title"],
            "description": row["description"],
            "sku": row["id"],
            "url": f"{sbx.base_url}/item/{row['id']}",
            "image": [f"{sbx.base_url}/v1/listings/{row['id']}/photos/0.jpg"],
            "offers": {"@type": "Offer", "price": row["price"], "priceCurrency": row["currency"],
                       "itemCondition": row["condition"], "seller": {"@type": "Person", "name": row["seller_id"]}},
        }  # fmt: skip
        if row["brand"]:
            item["brand"] = {"@type": "Brand", "name": row["brand"]}
        for k in ("gtin", "upc", "ean", "isbn"):
            if ids.get(k):
                item["gtin" if k != "isbn" else "isbn"] = ids[k]
        return item

    def page(title: str, ld: dict[str, Any], body: str) -> str:
        data = json.dumps(ld).replace("</", "<\\/")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<script type='application/ld+json'>{data}</script></head><body>{body}</body></html>")  # fmt: skip

    @r.get("/robots.txt", response_class=PlainTextResponse)
    def robots() -> str:
        return ROBOTS

    @r.get("/search", response_class=HTMLResponse)
    def search_page(
        q: str = Query("", max_length=200), page_no: int = Query(1, ge=1, le=1000, alias="page")
    ) -> str:
        per = 50
        words = q.lower().split()[:8]
        where = " AND ".join(["status = 'active'", *["lower(title) LIKE ?" for _ in words]])
        rows = db.query(f"SELECT * FROM cl_listing WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                        [*(f"%{w}%" for w in words), per + 1, (page_no - 1) * per])  # fmt: skip
        items = [
            {"@type": "ListItem", "position": i + 1, "item": offer_ld(x)} for i, x in enumerate(rows[:per])
        ]
        ld = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": items}
        nxt = (
            f"<a rel='next' href='/search?q={html.escape(q)}&page={page_no + 1}'>next</a>"
            if len(rows) > per
            else ""
        )
        lis = "".join(
            f"<li><a href='/item/{html.escape(x['id'])}'>{html.escape(x['title'])}</a> {x['price']}</li>"
            for x in rows[:per]
        )
        return page(f"Search: {q}", ld, f"<ul>{lis}</ul>{nxt}")

    @r.get("/item/{listing_id}", response_class=HTMLResponse)
    def item_page(listing_id: str) -> str:
        row = db.one("SELECT * FROM cl_listing WHERE id = ?", (listing_id,))
        if row is None:
            raise ClassifiedsError(404, "not_found", "no such item")
        ld = {"@context": "https://schema.org", **offer_ld(row)}
        return page(
            row["title"], ld, f"<h1>{html.escape(row['title'])}</h1><p>{html.escape(row['description'])}</p>"
        )

    return r
