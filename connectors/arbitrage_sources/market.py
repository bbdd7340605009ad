"""What a product resells for: market quotes from Amazon (catalog by identifier with brand, category, sales rank and
package dimensions; buy box and offer count; listing restrictions; a fee estimate) and eBay (live offers by GTIN,
sales of the last 90 days through Marketplace Insights when the account has it), plus a Keepa-style price history
when a key is configured.

Two depths, because the published limits are tight (Amazon getCompetitivePricing 0.5 request/s for 20 ASINs,
getMyFeesEstimate 1/s, eBay Browse 5,000 calls a day): `screen` quotes every identified product of a batch in bulk
(catalog + buy box: 20 products per call); `deepen` adds the per-product calls (restrictions, fee estimate, eBay,
history) only for the few offers the screen found worth it. Every call waits on the adapters' rate-limit buckets.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.errors import ConnectorError
from connectors.marketplace.amazon.limits import MAX_CATALOG_IDENTIFIERS, MAX_PRICING_ASINS
from domain.arbitrage.fees import size_tier
from domain.arbitrage.market import MarketQuote

INCLUDED = "summaries,identifiers,salesRanks,dimensions"


def _chunks(items: Sequence[Any], n: int) -> list[Sequence[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def _measure(block: dict[str, Any] | None, unit: str) -> Decimal | None:
    if not block or block.get("value") is None:
        return None
    value = Decimal(str(block["value"]))
    if unit == "pounds" and block.get("unit") == "ounces":
        return value / 16
    if unit == "inches" and block.get("unit") == "centimeters":
        return value / Decimal("2.54")
    return value


def catalog_fields(item: dict[str, Any]) -> dict[str, Any]:
    """Brand, category, rank and FBA size tier of one searchCatalogItems item."""
    summary: dict[str, Any] = next(iter(item.get("summaries") or []), {})
    out: dict[str, Any] = {
        "asin": item["asin"],
        "title": summary.get("itemName"),
        "brand": summary.get("brand"),
        "category": (summary.get("browseClassification") or {}).get("displayName"),
    }
    ranks = [r.get("rank") for s in item.get("salesRanks") or [] for r in s.get("displayGroupRanks") or []]
    out["sales_rank"] = min((r for r in ranks if isinstance(r, int)), default=None)
    pkg = (next(iter(item.get("dimensions") or []), {}) or {}).get("package") or {}
    dims = [_measure(pkg.get(k), "inches") for k in ("length", "width", "height")]
    weight = _measure(pkg.get("weight"), "pounds")
    if all(d is not None for d in dims) and weight is not None:
        tier, billed = size_tier(length_in=dims[0], width_in=dims[1], height_in=dims[2], weight_lb=weight)  # type: ignore[arg-type]
        out["size_tier"], out["weight_oz"] = tier, billed.quantize(Decimal("0.1"))
    return out


class MarketData:
    """Built per worker process from the marketplace accounts (the composition root picks one account each)."""

    def __init__(self, *, amazon: Any | None, ebay: Any | None, keepa: Any | None = None,
                 ebay_sold: bool = False) -> None:  # fmt: skip
        self.amazon, self.ebay, self.keepa, self.ebay_sold = amazon, ebay, keepa, ebay_sold

    # ---- screen: bulk, every identified product ------------------------------------------------------------------
    async def screen(self, keys: Sequence[str]) -> dict[str, MarketQuote]:
        """Catalog matches and buy boxes for product keys ("gtin:...", "asin:..."), 20 per call."""
        now = datetime.now(UTC)
        found: dict[str, dict[str, Any]] = {}
        if self.amazon is not None:
            by_type: dict[str, list[str]] = {}
            for key in dict.fromkeys(keys):
                kind, _, value = key.partition(":")
                by_type.setdefault(
                    "ASIN" if kind == "asin" else "EAN" if len(value.lstrip("0")) > 12 else "UPC", []
                ).append(key)
            for id_type, group in by_type.items():
                for part in _chunks(group, MAX_CATALOG_IDENTIFIERS):
                    found.update(await self._catalog(id_type, part))
            asins = sorted({q["asin"] for q in found.values()})
            prices: dict[str, dict[str, Any]] = {}
            for part in _chunks(asins, MAX_PRICING_ASINS):
                prices.update(await self._buy_boxes(part))
            for q in found.values():
                q.update(prices.get(q["asin"], {}))
        out = {}
        for key in keys:
            fields = found.get(key)
            if fields is not None:
                out[key] = MarketQuote(product_key=key, sources=("amazon",), fetched_at=now, **fields)
        return out

    async def _catalog(self, id_type: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        value_of = {key: key.partition(":")[2] for key in keys}
        if id_type != "ASIN":  # GTIN-14 keys: Amazon wants the 12- or 13-digit form
            value_of = {k: v[1:] if len(v) == 14 and v.startswith("0") else v for k, v in value_of.items()}
            value_of = {
                k: v[1:] if id_type == "UPC" and len(v) == 13 and v.startswith("0") else v
                for k, v in value_of.items()
            }
        api = self.amazon.api
        r = await api.call("searchCatalogItems", "GET", "/catalog/2022-04-01/items", params={
            "identifiers": ",".join(value_of.values()), "identifiersType": id_type,
            "marketplaceIds": self.amazon.options.marketplace_id, "includedData": INCLUDED,
            "pageSize": MAX_CATALOG_IDENTIFIERS,
        })  # fmt: skip
        out: dict[str, dict[str, Any]] = {}
        for item in r.json().get("items") or []:
            ids = {item["asin"]}
            for group in item.get("identifiers") or []:
                ids |= {i.get("identifier") for i in group.get("identifiers") or []}
            for key, value in value_of.items():
                if value in ids:
                    out[key] = catalog_fields(item)
        return out

    async def _buy_boxes(self, asins: Sequence[str]) -> dict[str, dict[str, Any]]:
        api = self.amazon.api
        r = await api.call("getCompetitivePricing", "GET", "/products/pricing/v0/competitivePrice", params={
            "MarketplaceId": self.amazon.options.marketplace_id, "Asins": ",".join(asins), "ItemType": "Asin",
        })  # fmt: skip
        out: dict[str, dict[str, Any]] = {}
        for p in r.json().get("payload") or []:
            if p.get("status") != "Success":
                continue
            comp = (p.get("Product") or {}).get("CompetitivePricing") or {}
            for cp in comp.get("CompetitivePrices") or []:
                if cp.get("CompetitivePriceId") == "1":  # the New buy box
                    price = (cp.get("Price") or {}).get("ListingPrice") or {}
                    ship = (cp.get("Price") or {}).get("Shipping") or {}
                    out[p["ASIN"]] = {
                        "amazon_price": Decimal(str(price["Amount"])),
                        "amazon_shipping": Decimal(str(ship.get("Amount", 0))),
                    }
            counts = [
                c.get("Count") for c in comp.get("NumberOfOfferListings") or [] if c.get("condition") == "New"
            ]
            if counts and p["ASIN"] in out:
                out[p["ASIN"]]["amazon_offers"] = int(counts[0])
        return out

    # ---- deepen: per product, only for candidates --------------------------------------------------------------
    async def deepen(self, quote: MarketQuote) -> MarketQuote:
        extra: dict[str, Any] = {}
        sources = list(quote.sources)
        jobs = []
        if self.amazon is not None and quote.asin:
            jobs.append(self._restrictions(quote.asin, extra))
            if quote.amazon_price:
                jobs.append(self._fee_estimate(quote, extra))
        gtin = quote.product_key.partition(":")[2] if quote.product_key.startswith("gtin:") else None
        if self.ebay is not None and gtin:
            jobs.append(self._ebay_active(gtin, extra))
            if self.ebay_sold:
                jobs.append(self._ebay_sold(gtin, extra))
        if self.keepa is not None and quote.asin:
            jobs.append(self._history(quote.asin, extra))
        for outcome in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, ConnectorError):
                raise outcome  # a bug, not a marketplace answer
        sources += [s for s in extra.pop("_sources", []) if s not in sources]
        return quote.model_copy(update={**extra, "sources": tuple(sources)})

    async def _restrictions(self, asin: str, extra: dict[str, Any]) -> None:
        r = await self.amazon.api.call("getListingsRestrictions", "GET", "/listings/2021-08-01/restrictions", params={
            "asin": asin, "sellerId": self.amazon.seller_id, "marketplaceIds": self.amazon.options.marketplace_id,
            "conditionType": "used_like_new",
        })  # fmt: skip
        found = r.json().get("restrictions") or []
        reasons = [x.get("reasonCode") for res in found for x in res.get("reasons") or []]
        extra["restricted"] = bool(found)
        extra["restriction_reason"] = ", ".join(str(x) for x in reasons if x) or None
        extra.setdefault("_sources", []).append("amazon:restrictions")

    async def _fee_estimate(self, quote: MarketQuote, extra: dict[str, Any]) -> None:
        est = await self.amazon.fees_estimate(
            asin=quote.asin, price=quote.amazon_price, amazon_fulfilled=True
        )
        extra["amazon_fees_estimate"] = est.total
        extra.setdefault("_sources", []).append("amazon:getMyFeesEstimate")

    async def _ebay_active(self, gtin: str, extra: dict[str, Any]) -> None:
        body = await self.ebay.client.search_items(
            {"gtin": gtin.lstrip("0").zfill(12), "limit": "50", "sort": "price"}
        )
        summaries = body.get("itemSummaries") or []
        landed = []
        for s in summaries:
            ship = (s.get("shippingOptions") or [{}])[0].get("shippingCost", {}).get("value", "0")
            landed.append(Decimal(s["price"]["value"]) + Decimal(ship))
        extra["ebay_active_count"] = int(body.get("total") or len(summaries))
        extra["ebay_active_min"] = min(landed) if landed else None
        extra.setdefault("_sources", []).append("ebay:browse")

    async def _ebay_sold(self, gtin: str, extra: dict[str, Any]) -> None:
        r = await self.ebay.client.call(
            "GET", "/buy/marketplace_insights/v1_beta/item_sales/search", api="marketplace_insights",
            operation="itemSales.search", app_token=True, params={"gtin": gtin.lstrip("0").zfill(12), "limit": "200"},
            headers={"x-ebay-c-marketplace-id": self.ebay.client.marketplace_id},
        )  # fmt: skip
        body = r.json()
        prices = [Decimal(s["lastSoldPrice"]["value"]) for s in body.get("itemSales") or []]
        extra["ebay_sold_count"] = int(body.get("total") or len(prices))
        extra["ebay_sold_median"] = Decimal(str(statistics.median(prices))) if prices else None
        extra.setdefault("_sources", []).append("ebay:marketplace_insights")

    async def _history(self, asin: str, extra: dict[str, Any]) -> None:
        history = (await self.keepa.histories([asin])).get(asin)
        if history is not None:
            extra["price_history"] = tuple(history.prices)
            extra["sales_30d"] = history.sales_30d
            extra.setdefault("_sources", []).append("keepa")
