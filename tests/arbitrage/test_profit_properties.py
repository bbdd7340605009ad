"""Profit and ROI for any price and market: the max price really is the highest that meets the minimums, profit falls
as the price rises, and a landed cost is never below what was paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.arbitrage.fee_data import FEE_BOOK
from domain.arbitrage.fees import CENT
from domain.arbitrage.profit import (
    CostModel,
    SaleModel,
    landed_cost,
    max_purchase_price,
    profit,
    sale_estimate,
)

DAY = date(2024, 7, 1)
cents = st.integers(min_value=1, max_value=500_000).map(lambda c: D(c) / 100)
rates = st.integers(min_value=0, max_value=1500).map(lambda r: D(r) / 10_000)
channels = st.sampled_from(["amazon_fba", "amazon_mfn", "ebay"])
categories = st.sampled_from([None, "books", "consumer_electronics", "jewelry", "clothing", "home_kitchen"])


@st.composite
def sales(draw: st.DrawFn) -> SaleModel:
    ch = draw(channels)
    return SaleModel(
        channel=ch,
        price=draw(cents),
        category=draw(categories) if ch != "ebay" else draw(st.sampled_from([None, "books_movies_music"])),
        size_tier="large_standard" if ch == "amazon_fba" else None,
        weight_oz=D(draw(st.integers(min_value=1, max_value=300))) if ch == "amazon_fba" else None,
        shipping_cost=draw(cents.filter(lambda c: c < 50)) if ch != "amazon_fba" else D(0),
        buyer_tax_rate=draw(rates),
    )


costs = st.builds(
    CostModel,
    purchase_tax_rate=rates,
    card_fee_rate=rates.map(lambda r: r / 5),
    inbound_per_unit=cents.filter(lambda c: c < 20),
    prep_per_unit=cents.filter(lambda c: c < 5),
)


@settings(max_examples=150, deadline=None)
@given(sale=sales(), cost=costs, shipping=cents.filter(lambda c: c < 40), min_profit=cents.filter(lambda c: c < 100),
       min_roi=rates.map(lambda r: r * 4))  # fmt: skip
def test_max_price_is_the_highest_price_meeting_both_minimums(
    sale: SaleModel, cost: CostModel, shipping: D, min_profit: D, min_roi: D
) -> None:
    est = sale_estimate(sale, FEE_BOOK, DAY)
    top = max_purchase_price(est, cost, shipping=shipping, min_profit=min_profit, min_roi=min_roi)
    if top is None:
        free = profit(D(0), shipping, est, cost)
        assert free.profit < min_profit or free.profit < min_roi * free.landed_cost
        return
    at = profit(top, shipping, est, cost)
    assert at.profit >= min_profit and at.profit >= min_roi * at.landed_cost
    above = profit(top + CENT * 3, shipping, est, cost)  # a few cents more breaks a minimum
    assert above.profit < min_profit or above.profit < min_roi * above.landed_cost


@settings(max_examples=150, deadline=None)
@given(sale=sales(), cost=costs, a=cents, b=cents, shipping=cents.filter(lambda c: c < 40))
def test_profit_falls_as_the_price_rises_and_roi_matches_profit(
    sale: SaleModel, cost: CostModel, a: D, b: D, shipping: D
) -> None:
    est = sale_estimate(sale, FEE_BOOK, DAY)
    lo, hi = sorted((a, b))
    p_lo, p_hi = profit(lo, shipping, est, cost), profit(hi, shipping, est, cost)
    assert p_lo.profit >= p_hi.profit
    assert p_lo.landed_cost >= lo + shipping
    assert p_lo.profit == p_lo.net_proceeds - p_lo.landed_cost
    assert abs(p_lo.roi - p_lo.profit / p_lo.landed_cost) < D("0.0001")
    # the fees never exceed what the buyer pays plus the referral minimums and fixed fees of the schedule
    assert est.total_fees >= 0


@given(price=cents, shipping=cents, cost=costs)
def test_landed_cost_adds_every_cost_of_buying(price: D, shipping: D, cost: CostModel) -> None:
    landed = landed_cost(price, shipping, cost)
    expected = (
        price * (1 + cost.purchase_tax_rate + cost.card_fee_rate)
        + shipping
        + cost.inbound_per_unit
        + cost.prep_per_unit
    )
    assert abs(landed - expected) <= D("0.005")


def test_a_worked_deal() -> None:
    """Buy at $40 + $5 shipping, sell at $100 on eBay: 13.25 % of $107 (7 % tax) = $14.18 + $0.40, $8 shipping out."""
    est = sale_estimate(
        SaleModel(channel="ebay", price=D(100), shipping_cost=D(8), buyer_tax_rate=D("0.07")), FEE_BOOK, DAY
    )
    assert est.total_fees == D("14.58") and est.net_proceeds == D("77.42")
    p = profit(D(40), D(5), est, CostModel())
    assert (p.landed_cost, p.profit, p.roi) == (D("45.00"), D("32.42"), D("0.7204"))
    assert max_purchase_price(est, CostModel(), shipping=D(5), min_profit=D(10), min_roi=D("0.30")) == D(
        "54.55"
    )
