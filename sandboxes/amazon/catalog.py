"""Read-side APIs: FBA Inventory getInventorySummaries, Product Pricing getCompetitivePricing, Product Fees
estimates, Catalog Items searchCatalogItems. Competitor prices and fees are deterministic functions of the ASIN and
price so tests can rely on them."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param, iso
from sandboxes.amazon.listings import json_body
from sandboxes.amazon.market import catalog_extras, market_product
from sandboxes.amazon.store import LISTING_COLUMNS, asin_for_identifier, get_listing, identifiers_of

FBA_PAGE = 50
CENT = Decimal("0.01")


def competitor_price(asin: str, own_price: Decimal | None) -> Decimal:
    h = int(hashlib.sha256(asin.encode()).hexdigest()[:8], 16)
    base = own_price if own_price is not None else Decimal(10 + h % 90)
    return (base * (Decimal("0.92") + Decimal(h % 13) / 100)).quantize(CENT, ROUND_HALF_UP)


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"CurrencyCode": currency, "Amount": float(amount)}


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["FBA Inventory, Pricing, Fees, Catalog"])
    store = sbx.state.store

    @r.get("/fba/inventory/v1/summaries")
    async def get_inventory_summaries(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getInventorySummaries")
        q = request.query_params
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        if q.get("granularityType") != "Marketplace" or q.get("granularityId") != sbx.marketplace_id:
            raise SpApiError(
                400, "InvalidInput", "Invalid granularityType or granularityId.", headers=headers
            )
        where, params = ["deleted = 0"], []
        token = q.get("nextToken")
        if token:
            try:
                after, expires = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            except ValueError:
                raise SpApiError(400, "InvalidInput", "Invalid nextToken.", headers=headers) from None
            if expires < time.time():
                raise SpApiError(400, "InvalidInput", "The nextToken has expired.", headers=headers)
            where.append("sku > ?")
            params.append(after)
        elif q.get("startDateTime"):
            from sandboxes.amazon.common import parse_iso

            where.append("updated_at >= ?")
            params.append(parse_iso(q["startDateTime"]))
        else:
            skus = csv_param(request, "sellerSkus") or ([q["sellerSku"]] if q.get("sellerSku") else [])
            if len(skus) > 50:
                raise SpApiError(400, "InvalidInput", "At most 50 sellerSkus.", headers=headers)
            if skus:
                where.append(f"sku IN ({','.join('?' * len(skus))})")
                params += skus
        rows = store.query(
            f"SELECT {LISTING_COLUMNS} FROM az_listing WHERE {' AND '.join(where)} ORDER BY sku LIMIT ?",
            [*params, FBA_PAGE + 1],
        )
        details = q.get("details", "false").lower() == "true"
        summaries = [_summary(dict(row), details) for row in rows[:FBA_PAGE]]
        body: dict[str, Any] = {
            "payload": {
                "granularity": {"granularityType": "Marketplace", "granularityId": sbx.marketplace_id},
                "inventorySummaries": summaries,
            }
        }
        if len(rows) > FBA_PAGE:
            raw = json.dumps([rows[FBA_PAGE - 1]["sku"], time.time() + sbx.knobs.next_token_ttl_seconds])
            body["pagination"] = {"nextToken": base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")}
        return JSONResponse(body, headers=headers)

    def _summary(row: dict[str, Any], details: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "asin": row["asin"],
            "fnSku": "X00" + row["asin"][-7:],
            "sellerSku": row["sku"],
            "condition": "NewItem",
            "lastUpdatedTime": iso(row["updated_at"]),
            "productName": row["title"],
            "totalQuantity": row["quantity"],
            "stores": [],
        }
        if details:
            out["inventoryDetails"] = {
                "fulfillableQuantity": row["quantity"],
                "inboundWorkingQuantity": 0,
                "inboundShippedQuantity": 0,
                "inboundReceivingQuantity": 0,
                "reservedQuantity": {
                    "totalReservedQuantity": 0,
                    "pendingCustomerOrderQuantity": 0,
                    "pendingTransshipmentQuantity": 0,
                    "fcProcessingQuantity": 0,
                },
                "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
                "unfulfillableQuantity": {"totalUnfulfillableQuantity": 0},
            }
        return out

    @r.get("/products/pricing/v0/competitivePrice")
    async def get_competitive_pricing(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getCompetitivePricing")
        q = request.query_params
        if q.get("MarketplaceId") != sbx.marketplace_id:
            raise SpApiError(400, "InvalidInput", "Invalid MarketplaceId.", headers=headers)
        item_type = q.get("ItemType")
        keys = csv_param(request, "Asins" if item_type == "Asin" else "Skus")
        if item_type not in ("Asin", "Sku") or not 1 <= len(keys) <= 20:
            raise SpApiError(
                400, "InvalidInput", "ItemType with 1 to 20 Asins or Skus is required.", headers=headers
            )
        return JSONResponse({"payload": [_price(item_type, k) for k in keys]}, headers=headers)

    def _price(item_type: str, key: str) -> dict[str, Any]:
        if item_type == "Sku":
            row = get_listing(store, key)
            asin = row["asin"] if row else None
        else:
            asin = key if asin_for_identifier(store, "asin", key) else None
            owned = store.one("SELECT price FROM az_listing WHERE asin = ? AND deleted = 0 LIMIT 1", (key,))
            row = dict(owned) if owned else None
        ident: dict[str, Any] = {
            "MarketplaceASIN": {"MarketplaceId": sbx.marketplace_id, "ASIN": asin or key}
        }
        if item_type == "Sku":
            ident["SKUIdentifier"] = {
                "MarketplaceId": sbx.marketplace_id,
                "SellerId": sbx.seller_id,
                "SellerSKU": key,
            }
        out: dict[str, Any] = {
            "status": "Success" if asin else "ClientError",
            "ASIN" if item_type == "Asin" else "SellerSKU": key,
            "Product": {"Identifiers": ident},
        }
        if asin is None:
            return out
        own = Decimal(row["price"]) if row and row["price"] else None
        market = market_product(store, asin) if own is None else None
        comp = Decimal(market["buy_box"]) if market and market["buy_box"] else competitor_price(asin, own)
        shipping = Decimal("0.00") if comp >= 25 else Decimal("4.99")
        out["Product"]["CompetitivePricing"] = {
            "CompetitivePrices": [
                {
                    "CompetitivePriceId": "1",
                    "Price": {
                        "LandedPrice": _money(comp + shipping, sbx.currency),
                        "ListingPrice": _money(comp, sbx.currency),
                        "Shipping": _money(shipping, sbx.currency),
                    },
                    "condition": "New",
                    "subcondition": "New",
                    "offerType": "B2C",
                    "belongsToRequester": own is not None and comp == own,
                }
            ],
            "NumberOfOfferListings": [
                {"Count": market["offers"] if market else 2 + int(comp) % 7, "condition": "New"}
            ],
        }
        return out

    async def _fees(request: Request, id_type: str, id_value: str, operation: str) -> JSONResponse:
        headers = sbx.guard(request, operation)
        body = (await json_body(request)).get("FeesEstimateRequest") or {}
        try:
            price = Decimal(str(body["PriceToEstimateFees"]["ListingPrice"]["Amount"]))
            shipping = Decimal(str((body["PriceToEstimateFees"].get("Shipping") or {}).get("Amount", 0)))
            identifier = str(body["Identifier"])
        except (KeyError, TypeError, ArithmeticError):
            raise SpApiError(400, "InvalidInput", "Invalid FeesEstimateRequest.", headers=headers) from None
        fba = bool(body.get("IsAmazonFulfilled"))
        known = (
            get_listing(store, id_value)
            if id_type == "SellerSKU"
            else asin_for_identifier(store, "asin", id_value)
        )
        result: dict[str, Any] = {
            "FeesEstimateIdentifier": {
                "MarketplaceId": sbx.marketplace_id,
                "SellerId": sbx.seller_id,
                "IdType": id_type,
                "IdValue": id_value,
                "IsAmazonFulfilled": fba,
                "SellerInputIdentifier": identifier,
                "PriceToEstimateFees": json.loads(json.dumps(body["PriceToEstimateFees"], default=float)),
            }
        }
        if not known:
            result.update(
                Status="ClientError",
                Error={
                    "Type": "Sender",
                    "Code": "InvalidParameterValue",
                    "Message": f"{id_type} '{id_value}' is not valid.",
                    "Detail": [],
                },
            )
            return JSONResponse({"payload": {"FeesEstimateResult": result}}, headers=headers)
        referral = max(Decimal("0.30"), ((price + shipping) * Decimal("0.15")).quantize(CENT, ROUND_HALF_UP))
        fees = [("ReferralFee", referral), ("VariableClosingFee", Decimal("0.00"))]
        if fba:
            fees.append(("FBAFees", Decimal("3.22")))
        total = sum((a for _, a in fees), Decimal(0))
        result.update(
            Status="Success",
            FeesEstimate={
                "TimeOfFeesEstimation": iso(),
                "TotalFeesEstimate": _money(total, sbx.currency),
                "FeeDetailList": [
                    {
                        "FeeType": t,
                        "FeeAmount": _money(a, sbx.currency),
                        "FinalFee": _money(a, sbx.currency),
                        "FeePromotion": _money(Decimal(0), sbx.currency),
                    }
                    for t, a in fees
                ],
            },
        )
        return JSONResponse({"payload": {"FeesEstimateResult": result}}, headers=headers)

    @r.post("/products/fees/v0/listings/{seller_sku:path}/feesEstimate")
    async def get_fees_for_sku(seller_sku: str, request: Request) -> JSONResponse:
        return await _fees(request, "SellerSKU", seller_sku, "getMyFeesEstimateForSKU")

    @r.post("/products/fees/v0/items/{asin}/feesEstimate")
    async def get_fees_for_asin(asin: str, request: Request) -> JSONResponse:
        return await _fees(request, "ASIN", asin, "getMyFeesEstimateForASIN")

    @r.get("/catalog/2022-04-01/items")
    async def search_catalog_items(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "searchCatalogItems")
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        identifiers = csv_param(request, "identifiers")
        id_type = request.query_params.get("identifiersType")
        if not identifiers or len(identifiers) > 20 or not id_type:
            raise SpApiError(
                400, "InvalidInput", "1 to 20 identifiers with identifiersType are required.", headers=headers
            )
        included = csv_param(request, "includedData") or ["summaries"]
        items, seen = [], set()
        for value in identifiers:
            if id_type == "SKU":
                row = get_listing(store, value)
                asin = row["asin"] if row else None
            else:
                asin = asin_for_identifier(store, id_type, value)
            if asin and asin not in seen:
                seen.add(asin)
                items.append(_catalog_item(asin, included))
        return JSONResponse(
            {
                "numberOfResults": len(items),
                "items": items,
                "pagination": {},
                "refinements": {"brands": [], "classifications": []},
            },
            headers=headers,
        )

    def _catalog_item(asin: str, included: list[str]) -> dict[str, Any]:
        row = store.one("SELECT title, product_type FROM az_listing WHERE asin = ? LIMIT 1", (asin,))
        known = store.one("SELECT * FROM az_catalog WHERE asin = ?", (asin,))
        item: dict[str, Any] = {"asin": asin}
        market = market_product(store, asin) if row is None else None
        if market is not None:  # a product other sellers sell (market.py)
            item.update(catalog_extras(market, included, sbx.marketplace_id))
            included = [x for x in included if x not in item]
        if "summaries" in included:
            summary: dict[str, Any] = {
                "marketplaceId": sbx.marketplace_id,
                "itemName": known["title"] if known else (row["title"] if row else asin),
            }
            for field, column in (("brand", "brand"), ("color", "color"), ("modelNumber", "model_number")):
                if known and known[column]:
                    summary[field] = known[column]
            item["summaries"] = [summary]
        if "productTypes" in included:
            product_type = known["product_type"] if known else (row["product_type"] if row else "PRODUCT")
            item["productTypes"] = [{"marketplaceId": sbx.marketplace_id, "productType": product_type}]
        if "identifiers" in included:
            item["identifiers"] = [
                {
                    "marketplaceId": sbx.marketplace_id,
                    "identifiers": [
                        {"identifierType": t.upper(), "identifier": v}
                        for t, v in identifiers_of(store, asin)
                        if t != "asin"
                    ],
                }
            ]
        return item

    @r.post("/_sandbox/amazon/catalog")
    async def seed_catalog(body: CatalogSeed) -> dict[str, int]:
        """Items of Amazon's catalog that the seller does not list (yet): what searchCatalogItems finds by
        identifier, with their title, brand and product type."""
        with store.tx() as c:
            for it in body.items:
                c.execute(
                    "INSERT OR REPLACE INTO az_catalog(asin, title, brand, product_type, color, model_number) "
                    "VALUES (?,?,?,?,?,?)",
                    (it.asin, it.title, it.brand, it.product_type, it.color, it.model_number),
                )
                for id_type, value in it.identifiers.items():
                    c.execute(
                        "INSERT OR REPLACE INTO az_identifier(id_type, value, asin) VALUES (?,?,?)",
                        (id_type.lower(), value, it.asin),
                    )
        return {"items": len(body.items)}

    return r


class CatalogItem(BaseModel):
    asin: str = Field(pattern=r"^[A-Z0-9]{10}$")
    title: str = Field(min_length=1, max_length=500)
    brand: str | None = None
    product_type: str = "PRODUCT"
    color: str | None = None
    model_number: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)  # {"ean": "4006381333931"}


class CatalogSeed(BaseModel):
    items: list[CatalogItem]
