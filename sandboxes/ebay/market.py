"""Other sellers' eBay listings (what a reseller finds with Browse keyword search, and buys from or prices against)
and the sales of the last 90 days (Buy Marketplace Insights `item_sales/search`, a limited-release API).

Seeded with `POST /_sandbox/ebay/market`. Browse answers keyword searches (`q`) from these items with offset
paging, and a GTIN search from them when the GTIN has any (else from the synthetic competitors of browse.py).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.ebay.core import EbayError, EbaySandbox

MARKET_SCHEMA = """
CREATE TABLE IF NOT EXISTS ebay_market_item (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT UNIQUE NOT NULL,
    title TEXT NOT NULL,
    price TEXT NOT NULL,
    shipping TEXT NOT NULL DEFAULT '0.00',
    currency TEXT NOT NULL DEFAULT 'USD',
    condition_id TEXT NOT NULL DEFAULT '3000',
    seller TEXT NOT NULL,
    gtin TEXT,
    category TEXT,
    sold_at REAL
);
CREATE INDEX IF NOT EXISTS ix_ebay_market_gtin ON ebay_market_item(gtin, sold_at);
"""
INSIGHTS = "/buy/marketplace_insights/v1_beta"
CONDITIONS = {"1000": "New", "1500": "New other (see details)", "2500": "Seller refurbished", "3000": "Used"}


class MarketItem(BaseModel):
    item_id: str = Field(min_length=1, max_length=40)
    title: str
    price: Decimal = Field(gt=0)
    shipping: Decimal = Decimal(0)
    currency: str = "USD"
    condition_id: str = "3000"
    seller: str = "someone"
    gtin: str | None = None
    category: str | None = None
    sold_days_ago: float | None = (
        None  # set: a sale of the last 90 days (Marketplace Insights), not a live item
    )


class MarketSeed(BaseModel):
    items: list[MarketItem]


def summary(row: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "itemId": f"v1|{row['item_id']}|0",
        "legacyItemId": row["item_id"],
        "title": row["title"],
        "price": {"value": row["price"], "currency": row["currency"]},
        "condition": CONDITIONS.get(row["condition_id"], "Used"),
        "conditionId": row["condition_id"],
        "seller": {"username": row["seller"], "feedbackPercentage": "99.0", "feedbackScore": 250},
        "buyingOptions": ["FIXED_PRICE"],
        "itemWebUrl": f"https://www.ebay.com/itm/{row['item_id']}",
        "image": {"imageUrl": f"https://i.ebayimg.com/images/g/{row['item_id']}/s-l500.jpg"},
        "shippingOptions": [
            {
                "shippingCostType": "FIXED",
                "shippingCost": {"value": row["shipping"], "currency": row["currency"]},
            }
        ],
    }
    if row["gtin"]:
        s["gtins"] = [row["gtin"]]  # only with fieldgroups=EXTENDED on the real API; harmless extra here
    if row["category"]:
        s["categories"] = [{"categoryId": "0", "categoryName": row["category"]}]
    return s


def active_by_gtin(db: Any, gtin: str) -> list[dict[str, Any]] | None:
    rows = db.query("SELECT * FROM ebay_market_item WHERE gtin = ? AND sold_at IS NULL ORDER BY seq", (gtin,))
    return [summary(r) for r in rows] if rows else None


def keyword_search(db: Any, q: str, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    words = q.lower().split()[:8]
    where = " AND ".join(["sold_at IS NULL", *["lower(title) LIKE ?" for _ in words]])
    params = [f"%{w}%" for w in words]
    total = db.query(f"SELECT COUNT(*) AS n FROM ebay_market_item WHERE {where}", params)[0]["n"]
    rows = db.query(
        f"SELECT * FROM ebay_market_item WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return total, [summary(r) for r in rows]


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["buy marketplace insights"])
    db = sbx.db

    @r.post("/_sandbox/ebay/market")
    async def seed(body: MarketSeed) -> dict[str, int]:
        now = time.time()
        with db.tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO ebay_market_item(item_id, title, price, shipping, currency, condition_id, seller, "
                "gtin, category, sold_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(x.item_id, x.title, str(x.price), str(x.shipping), x.currency, x.condition_id, x.seller, x.gtin,
                  x.category, None if x.sold_days_ago is None else now - x.sold_days_ago * 86400) for x in body.items],
            )  # fmt: skip
        return {"seeded": len(body.items)}

    @r.get(f"{INSIGHTS}/item_sales/search")
    async def item_sales(request: Request) -> JSONResponse:
        sbx.guard(request, api="marketplace_insights", kinds=("app",))
        q = request.query_params
        if not q.get("gtin") and not q.get("q"):
            raise EbayError(400, 12001, "The call must have a valid 'q', 'category_ids', 'epid' or 'gtin' query parameter.",
                            domain="API_MARKETPLACE_INSIGHTS")  # fmt: skip
        try:
            limit, offset = min(200, int(q.get("limit", "50"))), int(q.get("offset", "0"))
        except ValueError:
            raise EbayError(
                400, 12002, "The 'limit' value must be an integer.", domain="API_MARKETPLACE_INSIGHTS"
            ) from None
        since = time.time() - 90 * 86400
        if q.get("gtin"):
            rows = db.query("SELECT * FROM ebay_market_item WHERE gtin = ? AND sold_at >= ? ORDER BY sold_at DESC",
                            (q["gtin"], since))  # fmt: skip
        else:
            words = q["q"].lower().split()[:8]
            where = " AND ".join(["sold_at >= ?", *["lower(title) LIKE ?" for _ in words]])
            rows = db.query(f"SELECT * FROM ebay_market_item WHERE {where} ORDER BY sold_at DESC",
                            [since, *(f"%{w}%" for w in words)])  # fmt: skip
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {
            "href": str(request.url),
            "total": len(rows),
            "limit": limit,
            "offset": offset,
        }
        if page:
            body["itemSales"] = [{
                "itemId": f"v1|{x['item_id']}|0", "title": x["title"],
                "lastSoldDate": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(x["sold_at"])),
                "lastSoldPrice": {"value": x["price"], "currency": x["currency"]},
                "totalSoldQuantity": 1, "condition": CONDITIONS.get(x["condition_id"], "Used"),
                "conditionId": x["condition_id"],
            } for x in page]  # fmt: skip
        return JSONResponse(body)

    return r
