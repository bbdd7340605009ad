"""Buy Browse API item_summary/search?gtin=...: live offers of other sellers for one product (plus ours).

Competitors come from PUT /_sandbox/ebay/competitors when a test sets them; otherwise three deterministic ones are
derived from the GTIN (around our own price when we list that GTIN), so repricing flows have data out of the box.
A product of eBay's catalog (PUT /_sandbox/ebay/products) gives the other sellers' listings of its GTIN their
title, category and `epid`, as listings matched to the catalog carry on eBay; without it they are "Item <gtin>".
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.ebay.core import SELLER, EbayError, EbaySandbox
from sandboxes.ebay.market import active_by_gtin, keyword_search

BROWSE = "/buy/browse/v1"
CONDITIONS = {"1000": "New", "1500": "New other (see details)", "2500": "Seller refurbished", "3000": "Used"}
SYNTHETIC = (
    ("gadget_outlet", "0.93", "4.99"),
    ("bargain_barn_uk", "0.97", "0.00"),
    ("prime_picks_24", "1.06", "0.00"),
)


class CompetitorOffer(BaseModel):
    seller: str
    price: Decimal = Field(gt=0)
    shipping: Decimal | None = None
    currency: str = "USD"
    condition_id: str = "1000"


class Competitors(BaseModel):
    gtin: str
    offers: list[CompetitorOffer]


class CatalogProduct(BaseModel):
    gtin: str = Field(pattern=r"^\d{8,14}$")
    title: str = Field(min_length=1, max_length=80)
    category_id: str = "99"
    category_name: str = "Everything Else"
    epid: str | None = None


class CatalogProducts(BaseModel):
    products: list[CatalogProduct]


def _summary(
    item_id: str,
    title: str,
    seller: str,
    price: str,
    currency: str,
    shipping: str | None,
    cond: str,
    product: dict[str, Any] | None = None,
) -> dict[str, Any]:
    s: dict[str, Any] = {
        "itemId": f"v1|{item_id}|0",
        "title": title,
        "price": {"value": price, "currency": currency},
        "condition": CONDITIONS.get(cond, "New"),
        "conditionId": cond,
        "seller": {"username": seller, "feedbackPercentage": "99.2", "feedbackScore": 1800},
        "buyingOptions": ["FIXED_PRICE"],
        "itemWebUrl": f"https://www.ebay.com/itm/{item_id}",
    }
    if product is not None:
        s["title"] = product["title"]
        s["epid"] = product["epid"]
        s["categories"] = [{"categoryId": product["category_id"], "categoryName": product["category_name"]}]
        s["leafCategoryIds"] = [product["category_id"]]
    if shipping is not None:
        s["shippingOptions"] = [
            {"shippingCostType": "FIXED", "shippingCost": {"value": shipping, "currency": currency}}
        ]
    return s


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["buy browse"])
    db = sbx.db

    def own_listings(gtin: str) -> list[dict[str, Any]]:
        rows = db.query(
            "SELECT i.product, o.listing_id, o.price, o.currency FROM ebay_item i JOIN ebay_offer o ON o.sku = i.sku "
            "WHERE o.status = 'PUBLISHED' AND i.product LIKE ?",
            (f'%"{gtin}"%',),
        )
        out = []
        for row in rows:
            product = json.loads(row["product"])
            if any(gtin in (product.get(k) or []) for k in ("upc", "ean", "isbn")):
                out.append(
                    _summary(
                        row["listing_id"],
                        product.get("title", ""),
                        SELLER,
                        row["price"],
                        row["currency"] or "USD",
                        "0.00",
                        "1000",
                    )
                )
        return out

    def catalog_product(gtin: str) -> dict[str, Any] | None:
        row = db.one("SELECT * FROM ebay_product WHERE gtin = ?", (gtin,))
        return dict(row) if row is not None else None

    def competitors(gtin: str, anchor: Decimal | None) -> list[dict[str, Any]]:
        product = catalog_product(gtin)
        rows = db.query("SELECT * FROM ebay_competitor WHERE gtin = ? ORDER BY seller", (gtin,))
        if rows:
            return [
                _summary(
                    f"3{abs(hash((gtin, x['seller']))) % 10**11:011d}",
                    f"Item {gtin}",
                    x["seller"],
                    x["price"],
                    x["currency"],
                    x["shipping"],
                    x["condition_id"],
                    product,
                )
                for x in rows
            ]
        digest = int(hashlib.sha256(gtin.encode()).hexdigest(), 16)
        base = anchor or Decimal(5 + digest % 9500) / 100
        return [
            _summary(
                f"2{(digest + i) % 10**11:011d}",
                f"Item {gtin}",
                seller,
                str((base * Decimal(f)).quantize(Decimal("0.01"))),
                "USD",
                ship,
                "1000",
                product,
            )
            for i, (seller, f, ship) in enumerate(SYNTHETIC)
        ]

    @r.get(f"{BROWSE}/item_summary/search")
    async def search(request: Request) -> JSONResponse:
        sbx.guard(request, api="browse", kinds=("app", "user"))
        q = request.query_params
        gtin = q.get("gtin")
        if not gtin and not q.get("q"):
            raise EbayError(
                400,
                12001,
                "The call must have a valid 'q', 'category_ids', 'epid', 'gtin' or 'charity_ids' query parameter.",
                domain="API_BROWSE",
            )
        try:
            limit, offset = int(q.get("limit", "50")), int(q.get("offset", "0"))
        except ValueError:
            raise EbayError(
                400, 12002, "The 'limit' value must be an integer.", domain="API_BROWSE"
            ) from None
        if not gtin:  # keyword search: other sellers' listings (market.py)
            total, page = keyword_search(db, q["q"], offset, limit)
            body = {"href": str(request.url), "total": total, "limit": limit, "offset": offset}
            if total > offset + limit:
                body["next"] = str(request.url.include_query_params(offset=offset + limit))
            if page:
                body["itemSummaries"] = page
            return JSONResponse(body)
        ours = own_listings(gtin)
        anchor = Decimal(ours[0]["price"]["value"]) if ours else None
        found = ours + (active_by_gtin(db, gtin) or competitors(gtin, anchor))

        def landed(s: dict[str, Any]) -> Decimal:
            ship = (s.get("shippingOptions") or [{}])[0].get("shippingCost", {}).get("value", "0")
            return Decimal(s["price"]["value"]) + Decimal(ship)

        if q.get("sort") == "price":
            found.sort(key=landed)
        page = found[offset : offset + limit]
        body: dict[str, Any] = {
            "href": str(request.url),
            "total": len(found),
            "limit": limit,
            "offset": offset,
        }
        if page:
            body["itemSummaries"] = page
        return JSONResponse(body)

    @r.put("/_sandbox/ebay/competitors")
    async def set_competitors(body: Competitors) -> dict[str, Any]:
        with db.tx() as c:
            c.execute("DELETE FROM ebay_competitor WHERE gtin = ?", (body.gtin,))
            c.executemany(
                "INSERT INTO ebay_competitor(gtin, seller, price, shipping, currency, condition_id) VALUES (?,?,?,?,?,?)",
                [
                    (
                        body.gtin,
                        o.seller,
                        str(o.price),
                        str(o.shipping) if o.shipping is not None else None,
                        o.currency,
                        o.condition_id,
                    )
                    for o in body.offers
                ],
            )
        return {"gtin": body.gtin, "offers": len(body.offers)}

    @r.put("/_sandbox/ebay/products")
    async def set_products(body: CatalogProducts) -> dict[str, Any]:
        """Products of eBay's catalog, by GTIN: what other sellers' listings of them are called and filed under."""
        with db.tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO ebay_product(gtin, epid, title, category_id, category_name) VALUES (?,?,?,?,?)",
                [
                    (
                        p.gtin,
                        p.epid or str(10**9 + int(p.gtin) % 10**9),
                        p.title,
                        p.category_id,
                        p.category_name,
                    )
                    for p in body.products
                ],
            )
        return {"products": len(body.products)}

    return r
