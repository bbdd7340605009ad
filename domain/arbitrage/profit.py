"""Profit of buying one offer and reselling it on one channel: landed cost, fees of the day, net proceeds, profit,
ROI, and the highest purchase price that still meets the minimum profit and ROI.

The sale side (price, fees, shipping out) does not depend on what we pay, so it is computed once per product and
channel (`SaleEstimate`) and reused for every offer of that product; only the landed cost is per offer.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.arbitrage.fees import (
    CENT,
    ZERO,
    FeeBook,
    FeeLine,
    amazon_fees,
    ebay_fees,
    money,
    total,
)

Channel = Literal["amazon_fba", "amazon_mfn", "ebay"]
CHANNEL_MARKETPLACE: dict[str, str] = {"amazon_fba": "amazon", "amazon_mfn": "amazon", "ebay": "ebay"}


class CostModel(BaseModel):
    """What buying costs on top of the price: the seller's shipping comes with the offer; these are ours."""

    model_config = ConfigDict(frozen=True)

    purchase_tax_rate: Decimal = Field(
        Decimal(0), ge=0, le=1
    )  # sales tax on the purchase (0: private sellers)
    card_fee_rate: Decimal = Field(Decimal(0), ge=0, le=1)  # our payment provider's cut on what we pay
    inbound_per_unit: Decimal = Field(Decimal(0), ge=0)  # to our warehouse or an FBA centre
    prep_per_unit: Decimal = Field(Decimal(0), ge=0)  # cleaning, labelling, bagging


class SaleModel(BaseModel):
    """How a product would sell on one channel."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    price: Decimal = Field(gt=0)  # expected sale price (item only)
    shipping_charged: Decimal = Decimal(0)  # what the buyer pays for shipping
    category: str | None = None  # fee category of that marketplace (fee_data.fee_category)
    size_tier: str | None = None  # FBA only
    weight_oz: Decimal | None = None
    shipping_cost: Decimal = Decimal(0)  # what we pay to ship it to the buyer (merchant-fulfilled channels)
    buyer_tax_rate: Decimal = Decimal(0)  # eBay charges its fee on the sales tax it collects too


class SaleEstimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel
    sale_price: Decimal
    fee_version: str
    fees: tuple[FeeLine, ...]
    total_fees: Decimal
    shipping_cost: Decimal
    net_proceeds: Decimal  # sale price + shipping charged - fees - our shipping cost


class ProfitBreakdown(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel
    fee_version: str
    purchase_price: Decimal
    landed_cost: Decimal
    sale_price: Decimal
    fees: tuple[FeeLine, ...]
    total_fees: Decimal
    shipping_cost: Decimal
    net_proceeds: Decimal
    profit: Decimal
    roi: Decimal  # profit / landed cost
    margin: Decimal  # profit / sale price


def sale_estimate(sale: SaleModel, book: FeeBook, day: date) -> SaleEstimate:
    version = book.on(CHANNEL_MARKETPLACE[sale.channel], day)
    if sale.channel == "ebay":
        lines = ebay_fees(
            version,
            price=sale.price,
            shipping_charged=sale.shipping_charged,
            buyer_tax_rate=sale.buyer_tax_rate,
            category=sale.category,
        )
        shipping = sale.shipping_cost
    else:
        fba = sale.channel == "amazon_fba"
        lines = amazon_fees(
            version,
            price=sale.price,
            shipping_charged=sale.shipping_charged,
            category=sale.category,
            size_tier=(sale.size_tier or "large_standard") if fba else None,
            weight_oz=sale.weight_oz if fba else None,
        )
        shipping = ZERO if fba else sale.shipping_cost  # FBA's fulfilment fee includes the shipping
    fees = total(lines)
    return SaleEstimate(
        channel=sale.channel,
        sale_price=sale.price,
        fee_version=version.version,
        fees=tuple(lines),
        total_fees=fees,
        shipping_cost=shipping,
        net_proceeds=money(sale.price + sale.shipping_charged - fees - shipping),
    )


def with_fee(estimate: SaleEstimate, line: FeeLine) -> SaleEstimate:
    """The estimate with one more fee line (e.g. where the marketplace's own estimate is above our table's)."""
    return estimate.model_copy(
        update={
            "fees": (*estimate.fees, line),
            "total_fees": estimate.total_fees + line.amount,
            "net_proceeds": estimate.net_proceeds - line.amount,
        }
    )


def landed_cost(price: Decimal, shipping: Decimal, costs: CostModel) -> Decimal:
    return money(
        price * (1 + costs.purchase_tax_rate + costs.card_fee_rate)
        + shipping
        + costs.inbound_per_unit
        + costs.prep_per_unit
    )


def profit(price: Decimal, shipping: Decimal, estimate: SaleEstimate, costs: CostModel) -> ProfitBreakdown:
    landed = landed_cost(price, shipping, costs)
    gain = estimate.net_proceeds - landed
    return ProfitBreakdown(
        channel=estimate.channel,
        fee_version=estimate.fee_version,
        purchase_price=price,
        landed_cost=landed,
        sale_price=estimate.sale_price,
        fees=estimate.fees,
        total_fees=estimate.total_fees,
        shipping_cost=estimate.shipping_cost,
        net_proceeds=estimate.net_proceeds,
        profit=gain,
        roi=(gain / landed).quantize(Decimal("0.0001")) if landed > 0 else Decimal(0),
        margin=(gain / estimate.sale_price).quantize(Decimal("0.0001")),
    )


def max_purchase_price(
    estimate: SaleEstimate,
    costs: CostModel,
    *,
    shipping: Decimal,
    min_profit: Decimal,
    min_roi: Decimal,
) -> Decimal | None:
    """The highest price (whole cents, rounded down) at which profit >= min_profit and ROI >= min_roi; None when
    even a free item would miss them. Profit falls linearly with the price, so both bounds are closed-form:
    landed <= net - min_profit and landed <= net / (1 + min_roi)."""
    net = estimate.net_proceeds
    landed_max = min(net - min_profit, net / (1 + min_roi))
    per_unit = costs.inbound_per_unit + costs.prep_per_unit + shipping
    price = (landed_max - per_unit) / (1 + costs.purchase_tax_rate + costs.card_fee_rate)
    # the landed cost is rounded to cents: step down until the rounded figure really meets both bounds
    price = price.quantize(CENT, ROUND_FLOOR)
    for _ in range(3):
        if price < 0:
            return None
        p = profit(price, shipping, estimate, costs)
        if p.profit >= min_profit and p.profit >= min_roi * p.landed_cost:
            return price
        price -= CENT
    return None if price < 0 else price
