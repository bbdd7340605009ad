"""Sell Inventory API offers: getOffers / createOffer / getOffer / updateOffer / publishOffer / withdrawOffer."""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandboxes.ebay import repo
from sandboxes.ebay.core import INVENTORY, EbayError, EbaySandbox
from sandboxes.ebay.inventory import json_body, need_language

# fields stored verbatim in `details` (everything else has its own column or is read-only)
DETAIL_FIELDS = (
    "categoryId",
    "secondaryCategoryId",
    "listingDescription",
    "listingDuration",
    "listingPolicies",
    "merchantLocationKey",
    "quantityLimitPerBuyer",
    "includeCatalogProductDetails",
    "hideBuyerDetails",
    "lotSize",
    "storeCategoryNames",
    "tax",
    "charity",
    "listingStartDate",
)


def _not_available(offer_id: str, status: int = 404) -> EbayError:
    return EbayError(status, 25713, f"This Offer is not available : {offer_id}.")


def _price(body: dict[str, Any]) -> tuple[str | None, str | None]:
    amount = ((body.get("pricingSummary") or {}).get("price")) or None
    if amount is None:
        return None, None
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation:
        value = Decimal(0)
    if value <= 0:
        raise EbayError(
            400, 25709, "Invalid value for price.", parameters={"fieldName": "pricingSummary.price"}
        )
    return str(value.quantize(Decimal("0.01"))), str(amount.get("currency") or "USD")


def _details(body: dict[str, Any]) -> str:
    return json.dumps({k: body[k] for k in DETAIL_FIELDS if k in body})


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(prefix=INVENTORY, tags=["sell inventory offers"])
    db = sbx.db

    def load(offer_id: str) -> sqlite3.Row:
        row = db.one("SELECT * FROM ebay_offer WHERE offer_id = ?", (offer_id,))
        if row is None:
            raise _not_available(offer_id)
        return row

    @r.get("/offer")
    async def get_offers(request: Request) -> JSONResponse:
        sbx.guard(request)
        sku = request.query_params.get("sku")
        if not sku:
            raise EbayError(400, 25709, "Invalid value for sku.", parameters={"fieldName": "sku"})
        rows = [
            row
            for row in repo.offers_for_sku(db, sku)
            if request.query_params.get("marketplace_id") in (None, row["marketplace_id"])
        ]
        if not rows:
            raise _not_available(sku)
        href = f"{str(request.base_url).rstrip('/')}{INVENTORY}/offer?sku={sku}"
        return JSONResponse(
            {
                "href": href,
                "limit": 100,
                "size": 1,
                "total": len(rows),
                "offers": [repo.offer_json(x) for x in rows],
            }
        )

    @r.post("/offer")
    async def create_offer(request: Request) -> JSONResponse:
        sbx.guard(request)
        need_language(request)
        body = await json_body(request)
        sku, marketplace, fmt = body.get("sku"), body.get("marketplaceId"), body.get("format")
        for name, value in (("sku", sku), ("marketplaceId", marketplace), ("format", fmt)):
            if not isinstance(value, str) or not value:
                raise EbayError(400, 25709, f"Invalid value for {name}.", parameters={"fieldName": name})
        if fmt not in ("FIXED_PRICE", "AUCTION"):
            raise EbayError(400, 25709, "Invalid value for format.", parameters={"fieldName": "format"})
        if db.one("SELECT 1 FROM ebay_item WHERE sku = ?", (sku,)) is None:
            raise EbayError(
                400,
                25702,
                f"{sku} could not be found or is not available in the system.",
                parameters={"sku": str(sku)},
            )
        existing = db.one(
            "SELECT offer_id FROM ebay_offer WHERE sku = ? AND marketplace_id = ? AND format = ?",
            (sku, marketplace, fmt),
        )
        if existing is not None:
            raise EbayError(
                400,
                25002,
                "A user error has occurred. Offer entity already exists.",
                parameters={"offerId": existing["offer_id"]},
            )
        price, currency = _price(body)
        with db.tx() as c:
            seq = int(c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM ebay_offer").fetchone()[0])
            offer_id = repo.offer_id_for(seq)
            c.execute(
                "INSERT INTO ebay_offer(seq, offer_id, sku, marketplace_id, format, status, price, currency, "
                "available_quantity, details, updated_at) VALUES (?,?,?,?,?, 'UNPUBLISHED', ?,?,?,?,?)",
                (
                    seq,
                    offer_id,
                    sku,
                    marketplace,
                    fmt,
                    price,
                    currency,
                    body.get("availableQuantity"),
                    _details(body),
                    time.time(),
                ),
            )
        return JSONResponse({"offerId": offer_id}, status_code=201)

    @r.get("/offer/{offer_id}")
    async def get_offer(offer_id: str, request: Request) -> JSONResponse:
        sbx.guard(request)
        return JSONResponse(repo.offer_json(load(offer_id)))

    @r.put("/offer/{offer_id}")
    async def update_offer(offer_id: str, request: Request) -> Response:
        sbx.guard(request)
        need_language(request)
        body = await json_body(request)
        row = load(offer_id)
        price, currency = _price(body)
        db.execute(
            "UPDATE ebay_offer SET price = ?, currency = ?, available_quantity = ?, details = ?, updated_at = ? "
            "WHERE offer_id = ?",
            (price, currency, body.get("availableQuantity"), _details(body), time.time(), offer_id),
        )
        sbx.state.record_effect(f"sku:{row['sku']}", "price", row["price"], price)
        return Response(status_code=204)

    @r.post("/offer/{offer_id}/publish/")
    async def publish_offer(offer_id: str, request: Request) -> JSONResponse:
        sbx.guard(request)
        row = load(offer_id)
        item = db.one("SELECT * FROM ebay_item WHERE sku = ?", (row["sku"],))
        details = json.loads(row["details"] or "{}")
        product = json.loads(item["product"] or "{}") if item else {}
        if row["price"] is None:
            raise EbayError(
                400,
                25003,
                "The eBay listing associated with the inventory item, or the unpublished offer has an invalid price. Price is missing.",
            )
        if not product.get("title"):
            raise EbayError(
                400, 25002, "A user error has occurred. The title is missing on the inventory item."
            )
        if item is None or item["quantity"] is None:
            raise EbayError(
                400,
                25004,
                "The eBay listing associated with the inventory item, or the unpublished offer has an invalid quantity. Ship-to-home quantity is missing.",
            )
        if not details.get("categoryId"):
            raise EbayError(
                400,
                25005,
                "The eBay listing associated with the inventory item, or the unpublished offer has an invalid category ID. Set categoryId on the offer.",
            )
        if row["status"] == "PUBLISHED":
            return JSONResponse({"listingId": row["listing_id"]})  # a re-publish revises the same listing
        listing_id = (
            str(int(row["listing_id"]) + 10_000_000) if row["listing_id"] else repo.listing_id_for(row["seq"])
        )
        db.execute(
            "UPDATE ebay_offer SET status = 'PUBLISHED', listing_id = ?, updated_at = ? WHERE offer_id = ?",
            (listing_id, time.time(), offer_id),
        )
        sbx.state.record_effect(f"sku:{row['sku']}", "status", row["status"], "PUBLISHED")
        return JSONResponse({"listingId": listing_id})

    @r.post("/offer/{offer_id}/withdraw")
    async def withdraw_offer(offer_id: str, request: Request) -> JSONResponse:
        sbx.guard(request)
        row = load(offer_id)
        if row["status"] != "PUBLISHED":
            raise _not_available(offer_id, status=400)
        db.execute(
            "UPDATE ebay_offer SET status = 'UNPUBLISHED', updated_at = ? WHERE offer_id = ?",
            (time.time(), offer_id),
        )
        sbx.state.record_effect(f"sku:{row['sku']}", "status", "PUBLISHED", "UNPUBLISHED")
        return JSONResponse({"listingId": row["listing_id"]})

    return r
