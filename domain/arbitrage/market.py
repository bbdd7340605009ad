"""What the marketplaces say a product is worth and how fast it sells, turned into per-channel sale models, days
to sell and a risk score.

A `MarketQuote` gathers the facts the connectors fetched for one product (Amazon catalog, buy box, offers, sales
rank, listing restrictions; eBay active and sold prices; a price history when a Keepa-style service is
configured). Everything here is arithmetic over those facts.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.arbitrage.fee_data import fee_category
from domain.arbitrage.profit import Channel, SaleModel

# A used item sells below the new buy box. Rough discounts by condition (resellers' rule of thumb, not a
# marketplace figure); `new` and `sealed` sell at the market price.
CONDITION_FACTOR: dict[str, Decimal] = {
    "new": Decimal("1.00"),
    "sealed": Decimal("1.00"),
    "like_new": Decimal("0.85"),
    "very_good": Decimal("0.78"),
    "good": Decimal("0.70"),
    "acceptable": Decimal("0.55"),
    "for_parts": Decimal("0.20"),
}
UNDERCUT = Decimal("0.99")  # we price 1 % under the cheapest comparable offer to be the one that sells
# Only when neither sold counts nor a rank history exist: daily sales from the sales rank by a power law, the
# shape resellers' rank-to-sales charts follow (about 100 a day at rank 10, one a day near rank 3,000).
RANK_SCALE, RANK_EXPONENT = 630.0, 0.8
MAX_DAYS = 365


class MarketQuote(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_key: str  # "gtin:00012345678905" | "asin:B0..." : what the offer was matched on
    asin: str | None = None
    title: str | None = None
    brand: str | None = None
    category: str | None = None  # the catalog's category name
    size_tier: str | None = None
    weight_oz: Decimal | None = None
    # Amazon
    amazon_price: Decimal | None = None  # buy box (new) listing price
    amazon_shipping: Decimal | None = None
    amazon_offers: int | None = None
    sales_rank: int | None = None
    restricted: bool | None = None  # listing restrictions: approval required for this seller
    restriction_reason: str | None = None
    amazon_fees_estimate: Decimal | None = None  # getMyFeesEstimate (FBA) at the buy box price
    # eBay
    ebay_active_min: Decimal | None = None  # lowest landed price (price + shipping) of the live offers
    ebay_active_count: int | None = None
    ebay_sold_median: Decimal | None = None  # last 90 days
    ebay_sold_count: int | None = None
    # a price history (Keepa-style), newest last, and the sales it implies over the last 30 days
    price_history: tuple[Decimal, ...] = ()
    sales_30d: int | None = None
    sources: tuple[str, ...] = ()
    fetched_at: datetime | None = None

    @property
    def identified(self) -> bool:
        return self.asin is not None or self.ebay_active_min is not None or self.ebay_sold_median is not None


# What `deepen` adds to a screened quote (per product, for candidates only). A screen decision must not see them:
# the same offer would otherwise be decided on more facts when an earlier batch happened to deepen its product.
DEEP_FIELDS = (
    "restricted", "restriction_reason", "amazon_fees_estimate", "ebay_active_min", "ebay_active_count",
    "ebay_sold_median", "ebay_sold_count", "price_history", "sales_30d",
)  # fmt: skip
SCREEN_SOURCES = frozenset({"amazon"})


def screen_view(quote: MarketQuote) -> MarketQuote:
    """The quote as the bulk screen saw it: catalog and buy box only."""
    reset = {name: MarketQuote.model_fields[name].default for name in DEEP_FIELDS}
    sources = tuple(s for s in quote.sources if s in SCREEN_SOURCES)
    return quote.model_copy(update={**reset, "sources": sources})


class Velocity(BaseModel):
    daily_sales: float  # the whole market's
    competitors: int
    days_to_sell: int  # expected days until our unit sells
    basis: str  # what the estimate rests on


class Risk(BaseModel):
    volatility: float  # coefficient of variation of the price history (or of live prices)
    competition: float  # 0..1
    slowness: float  # 0..1
    score: float = Field(ge=0, le=1)


def sale_models(
    quote: MarketQuote,
    *,
    condition: str,
    channels: tuple[Channel, ...],
    ebay_shipping_cost: Decimal,
    mfn_shipping_cost: Decimal,
    buyer_tax_rate: Decimal,
) -> list[SaleModel]:
    """One sale model per channel the quote has a price for. Restricted Amazon listings are left out: we could
    not list there."""
    factor = CONDITION_FACTOR.get(condition, CONDITION_FACTOR["good"])
    out: list[SaleModel] = []
    if quote.amazon_price and not quote.restricted:
        price = (quote.amazon_price * factor * UNDERCUT).quantize(Decimal("0.01"))
        category = fee_category("amazon", quote.category)
        for ch in channels:
            if ch == "amazon_fba" and condition in ("new", "sealed", "like_new", "very_good", "good"):
                out.append(
                    SaleModel(
                        channel=ch, price=price, category=category, size_tier=quote.size_tier,
                        weight_oz=quote.weight_oz or Decimal(12),
                    )
                )  # fmt: skip
            elif ch == "amazon_mfn":
                out.append(
                    SaleModel(channel=ch, price=price, category=category, shipping_cost=mfn_shipping_cost)
                )
    ebay_base = quote.ebay_sold_median or quote.ebay_active_min
    if ebay_base and "ebay" in channels:
        price = (ebay_base * factor * UNDERCUT).quantize(Decimal("0.01"))
        out.append(
            SaleModel(
                channel="ebay",
                price=price,
                category=fee_category("ebay", quote.category),
                shipping_cost=ebay_shipping_cost,
                buyer_tax_rate=buyer_tax_rate,
            )
        )
    return [m for m in out if m.price > 0]


def velocity(quote: MarketQuote, channel: Channel) -> Velocity:
    competitors = (quote.ebay_active_count if channel == "ebay" else quote.amazon_offers) or 0
    if channel == "ebay" and quote.ebay_sold_count is not None:
        daily, basis = quote.ebay_sold_count / 90.0, "eBay sold in 90 days"
    elif quote.sales_30d is not None:
        daily, basis = quote.sales_30d / 30.0, "sales-rank drops in 30 days (price history)"
    elif quote.sales_rank:
        daily, basis = RANK_SCALE / quote.sales_rank**RANK_EXPONENT, "sales rank"
    else:
        daily, basis = 0.0, "no sales data"
    share = daily / (competitors + 1)  # we take our turn among the sellers of the product
    days = MAX_DAYS if share <= 0 else min(MAX_DAYS, max(1, math.ceil(1 / share)))
    return Velocity(daily_sales=round(daily, 4), competitors=competitors, days_to_sell=days, basis=basis)


def volatility(quote: MarketQuote) -> float:
    prices = [float(p) for p in quote.price_history if p > 0]
    if len(prices) < 3 and quote.ebay_active_min and quote.ebay_sold_median:
        prices = [float(quote.ebay_active_min), float(quote.ebay_sold_median)]
    if len(prices) < 2:
        return 0.15  # unknown: assume a moderately volatile market, never a perfectly stable one
    mean = statistics.fmean(prices)
    return 0.0 if mean <= 0 else statistics.pstdev(prices) / mean


def risk(quote: MarketQuote, v: Velocity) -> Risk:
    vol = volatility(quote)
    competition = min(1.0, v.competitors / 30)
    slowness = min(1.0, v.days_to_sell / 90)
    score = 0.45 * min(1.0, vol / 0.3) + 0.30 * competition + 0.25 * slowness
    return Risk(
        volatility=round(vol, 4),
        competition=round(competition, 4),
        slowness=round(slowness, 4),
        score=round(min(1.0, max(0.0, score)), 4),
    )
