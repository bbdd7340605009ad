"""Amazon's catalog beyond our own listings: products other sellers sell, with their buy box, offer count, sales
rank, category, package dimensions and whether this seller may list them - what a reseller looks up before buying.

Seeded with PUT-like `POST /_sandbox/amazon/market` (the catalog items ingest looks up are seeded at
`POST /_sandbox/amazon/catalog`); the catalog, pricing and fee endpoints (catalog.py) answer
for these ASINs too. `getListingsRestrictions` (Listings Restrictions API 2021-08-01) answers APPROVAL_REQUIRED for
gated products, with the approval link the real API gives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param
from sandboxes.common.store import SandboxStore

MARKET_SCHEMA = """
CREATE TABLE IF NOT EXISTS az_market (
    asin TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    brand TEXT,
    category TEXT,
    sales_rank INTEGER,
    buy_box TEXT,
    offers INTEGER NOT NULL DEFAULT 1,
    restricted INTEGER NOT NULL DEFAULT 0,
    weight_lb REAL,
    length_in REAL,
    width_in REAL,
    height_in REAL
);
"""
IDENTIFIER_TYPES = ("upc", "ean", "isbn", "gtin")


class MarketProduct(BaseModel):
    asin: str = Field(pattern=r"^[A-Z0-9]{10}$")
    title: str
    brand: str | None = None
    category: str | None = None  # the browse classification's display name, e.g. "Toys & Games"
    sales_rank: int | None = Field(default=None, ge=1)
    buy_box: Decimal | None = Field(default=None, gt=0)
    offers: int = Field(1, ge=0)
    restricted: bool = False
    weight_lb: float | None = None
    dimensions_in: tuple[float, float, float] | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)


class CatalogSeed(BaseModel):
    products: list[MarketProduct]


def market_product(store: SandboxStore, asin: str) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM az_market WHERE asin = ?", (asin,))
    return dict(row) if row else None


def catalog_extras(product: dict[str, Any], included: list[str], marketplace_id: str) -> dict[str, Any]:
    """The catalog item parts a market product adds: summaries with brand and classification, salesRanks,
    dimensions (Catalog Items 2022-04-01 shapes)."""
    out: dict[str, Any] = {}
    if "summaries" in included:
        summary: dict[str, Any] = {"marketplaceId": marketplace_id, "itemName": product["title"]}
        if product["brand"]:
            summary["brand"] = product["brand"]
        if product["category"]:
            summary["browseClassification"] = {"displayName": product["category"], "classificationId": "1"}
        out["summaries"] = [summary]
    if "salesRanks" in included and product["sales_rank"]:
        out["salesRanks"] = [{
            "marketplaceId": marketplace_id,
            "displayGroupRanks": [{"websiteDisplayGroup": "gl_" + (product["category"] or "misc").lower().replace(" ", "_"),
                                   "title": product["category"] or "Everything", "rank": product["sales_rank"]}],
        }]  # fmt: skip
    if "dimensions" in included and product["length_in"]:

        def measure(value: float, unit: str) -> dict[str, Any]:
            return {"unit": unit, "value": value}

        out["dimensions"] = [{
            "marketplaceId": marketplace_id,
            "package": {"length": measure(product["length_in"], "inches"), "width": measure(product["width_in"], "inches"),
                        "height": measure(product["height_in"], "inches"),
                        "weight": measure(product["weight_lb"] or 0.0, "pounds")},
        }]  # fmt: skip
    return out


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Listings Restrictions, market catalog"])
    store = sbx.state.store

    @r.post("/_sandbox/amazon/market")
    async def seed(body: CatalogSeed) -> dict[str, int]:
        rows, ids = [], []
        for p in body.products:
            dims = p.dimensions_in or (None, None, None)
            rows.append((p.asin, p.title, p.brand, p.category, p.sales_rank, str(p.buy_box) if p.buy_box else None,
                         p.offers, int(p.restricted), p.weight_lb, *dims))  # fmt: skip
            ids += [(t, v, p.asin) for t, v in p.identifiers.items() if t in IDENTIFIER_TYPES]
            ids.append(("asin", p.asin, p.asin))
        with store.tx() as c:
            c.executemany("INSERT OR REPLACE INTO az_market VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            c.executemany("INSERT OR REPLACE INTO az_identifier(id_type, value, asin) VALUES (?,?,?)", ids)
        return {"seeded": len(rows)}

    @r.get("/listings/2021-08-01/restrictions")
    async def restrictions(
        request: Request,
        asin: str = Query(...),
        sellerId: str = Query(...),
        conditionType: str | None = None,
    ) -> JSONResponse:
        headers = sbx.guard(request, "getListingsRestrictions")
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        if sellerId != sbx.seller_id:
            raise SpApiError(403, "Unauthorized", "Access to requested resource is denied.", headers=headers)
        product = market_product(store, asin)
        out = []
        if product and product["restricted"]:
            out.append({
                "marketplaceId": sbx.marketplace_id,
                "conditionType": conditionType or "new_new",
                "reasons": [{
                    "message": "You need approval to list in this brand.",
                    "reasonCode": "APPROVAL_REQUIRED",
                    "links": [{"resource": f"https://sellercentral.amazon.com/hz/approvalrequest/restrictions/approve?asin={asin}",
                               "verb": "GET", "title": "Request Approval via Seller Central.", "type": "text/html"}],
                }],
            })  # fmt: skip
        return JSONResponse({"restrictions": out}, headers=headers)

    return r
