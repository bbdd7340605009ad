"""Amazon read-side extras: competitive prices (Product Pricing v0 getCompetitivePricing, 20 ASINs per call), fee
estimates (Product Fees v0) and catalog lookups by UPC / EAN / ISBN / ASIN (Catalog Items 2022-04-01)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from connectors.errors import ValidationError
from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.limits import MAX_CATALOG_IDENTIFIERS, MAX_PRICING_ASINS
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.types import CompetitivePrice, ProductIdentifier

CATALOG_TYPES = {"upc": "UPC", "ean": "EAN", "isbn": "ISBN", "gtin": "GTIN", "asin": "ASIN"}
BUY_BOX_NEW = "1"  # CompetitivePriceId of the New buy box


class CatalogMatch(BaseModel):
    identifier: ProductIdentifier
    asin: str
    title: str | None = None
    brand: str | None = None
    product_type: str | None = None  # Amazon's own (e.g. "DRINKING_CUP"), from includedData=productTypes
    colour: str | None = None
    model_number: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)


class FeeDetail(BaseModel):
    fee_type: str
    amount: Decimal


class FeeEstimate(BaseModel):
    id_type: Literal["SellerSKU", "ASIN"]
    id_value: str
    price: Decimal
    currency: str
    total: Decimal
    fees: list[FeeDetail]
    estimated_at: datetime | None = None


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dec(money: dict[str, Any] | None) -> Decimal | None:
    if not money or money.get("Amount") is None:
        return None
    return Decimal(str(money["Amount"]))


class PricingApi:
    def __init__(self, api: SpApiClient, options: AmazonOptions, seller_id: str) -> None:
        self.api = api
        self.options = options
        self.seller_id = seller_id

    async def search_catalog(self, identifiers: Sequence[ProductIdentifier]) -> list[CatalogMatch]:
        by_type: dict[str, list[ProductIdentifier]] = {}
        for ident in identifiers:
            if ident.type not in CATALOG_TYPES:
                continue
            by_type.setdefault(ident.type, []).append(ident)
        out: list[CatalogMatch] = []
        for id_type, group in by_type.items():
            for part in _chunks(group, MAX_CATALOG_IDENTIFIERS):
                params = {
                    "identifiers": ",".join(i.value for i in part),
                    "identifiersType": CATALOG_TYPES[id_type],
                    "marketplaceIds": self.options.marketplace_id,
                    "includedData": "summaries,identifiers,productTypes",
                    "pageSize": MAX_CATALOG_IDENTIFIERS,
                }
                r = await self.api.call(
                    "searchCatalogItems", "GET", "/catalog/2022-04-01/items", params=params
                )
                out += self._matches(part, r.json().get("items") or [])
        return out

    def _matches(self, asked: Sequence[ProductIdentifier], items: list[dict[str, Any]]) -> list[CatalogMatch]:
        out = []
        for item in items:
            ids: dict[str, str] = {"asin": item["asin"]}
            for group in item.get("identifiers") or []:
                for i in group.get("identifiers") or []:
                    ids.setdefault(i["identifierType"].lower(), i["identifier"])
            summary: dict[str, Any] = next(iter(item.get("summaries") or []), {})
            types: dict[str, Any] = next(iter(item.get("productTypes") or []), {})
            for ident in asked:
                if ids.get(ident.type) == ident.value or (
                    ident.type == "asin" and ident.value == item["asin"]
                ):
                    out.append(
                        CatalogMatch(
                            identifier=ident,
                            asin=item["asin"],
                            title=summary.get("itemName"),
                            brand=summary.get("brand"),
                            product_type=types.get("productType"),
                            colour=summary.get("color"),
                            model_number=summary.get("modelNumber"),
                            identifiers=ids,
                        )
                    )
        return out

    async def competitive_prices(self, identifiers: Sequence[ProductIdentifier]) -> list[CompetitivePrice]:
        asins: dict[str, list[ProductIdentifier]] = {}
        skus = [i for i in identifiers if i.type == "sku"]
        lookups = [i for i in identifiers if i.type not in ("asin", "sku")]
        for ident in identifiers:
            if ident.type == "asin":
                asins.setdefault(ident.value, []).append(ident)
        for match in await self.search_catalog(lookups) if lookups else []:
            asins.setdefault(match.asin, []).append(match.identifier)
        out: list[CompetitivePrice] = []
        for part in _chunks(list(asins), MAX_PRICING_ASINS):
            out += await self._pricing("Asin", part, lambda key: asins[key])
        by_sku = {i.value: i for i in skus}
        for part in _chunks(list(by_sku), MAX_PRICING_ASINS):
            out += await self._pricing("Sku", part, lambda key: [by_sku[key]])
        return out

    async def _pricing(self, item_type: str, keys: Sequence[str], owners: Any) -> list[CompetitivePrice]:
        r = await self.api.call(
            "getCompetitivePricing",
            "GET",
            "/products/pricing/v0/competitivePrice",
            params={
                "MarketplaceId": self.options.marketplace_id,
                "Asins" if item_type == "Asin" else "Skus": ",".join(keys),
                "ItemType": item_type,
            },
        )
        now = datetime.now(UTC)
        out = []
        for price in r.json().get("payload") or []:
            if price.get("status") != "Success":
                continue
            key = price.get("ASIN") if item_type == "Asin" else price.get("SellerSKU")
            comp = (price.get("Product") or {}).get("CompetitivePricing") or {}
            for cp in comp.get("CompetitivePrices") or []:
                if cp.get("CompetitivePriceId") != BUY_BOX_NEW:
                    continue
                p = cp.get("Price") or {}
                listing = _dec(p.get("ListingPrice"))
                if listing is None or key not in keys:
                    continue
                currency = (p.get("ListingPrice") or {}).get("CurrencyCode") or self.options.currency
                for ident in owners(key):
                    out.append(
                        CompetitivePrice(
                            identifier=ident,
                            price=listing,
                            shipping=_dec(p.get("Shipping")),
                            currency=currency,
                            condition=cp.get("condition"),
                            seller="self" if cp.get("belongsToRequester") else cp.get("sellerId"),
                            source="amazon:getCompetitivePricing:buybox-new",
                            fetched_at=now,
                        )
                    )
        return out

    async def fees_estimate(
        self,
        *,
        sku: str | None = None,
        asin: str | None = None,
        price: Decimal,
        currency: str | None = None,
        shipping: Decimal | None = None,
        amazon_fulfilled: bool = False,
        identifier: str | None = None,
    ) -> FeeEstimate:
        if (sku is None) == (asin is None):
            raise ValueError("give exactly one of sku / asin")
        currency = currency or self.options.currency
        price_block: dict[str, Any] = {"ListingPrice": {"CurrencyCode": currency, "Amount": float(price)}}
        if shipping is not None:
            price_block["Shipping"] = {"CurrencyCode": currency, "Amount": float(shipping)}
        body = {
            "FeesEstimateRequest": {
                "MarketplaceId": self.options.marketplace_id,
                "IsAmazonFulfilled": amazon_fulfilled,
                "PriceToEstimateFees": price_block,
                "Identifier": identifier or f"merchflow-{sku or asin}-{price}",
            }
        }
        if sku is not None:
            op, id_type, value = "getMyFeesEstimateForSKU", "SellerSKU", sku
            path = f"/products/fees/v0/listings/{quote(sku, safe='')}/feesEstimate"
        else:
            op, id_type, value = "getMyFeesEstimateForASIN", "ASIN", str(asin)
            path = f"/products/fees/v0/items/{quote(value, safe='')}/feesEstimate"
        r = await self.api.call(op, "POST", path, json=body, replay_safe=True)  # an estimate changes nothing
        result = ((r.json().get("payload") or {}).get("FeesEstimateResult")) or {}
        if result.get("Status") != "Success":
            err = result.get("Error") or {}
            raise ValidationError(
                err.get("Message") or "fee estimate failed",
                marketplace="amazon",
                operation=op,
                code=err.get("Code"),
            )
        est = result["FeesEstimate"]
        total = _dec(est.get("TotalFeesEstimate")) or Decimal(0)
        return FeeEstimate(
            id_type=id_type,  # type: ignore[arg-type]
            id_value=str(value),
            price=price,
            currency=currency,
            total=total,
            fees=[
                FeeDetail(fee_type=f["FeeType"], amount=_dec(f.get("FinalFee")) or Decimal(0))
                for f in est.get("FeeDetailList") or []
            ],
            estimated_at=datetime.fromisoformat(est["TimeOfFeesEstimation"].replace("Z", "+00:00")),
        )
