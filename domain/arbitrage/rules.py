"""Buy, negotiate or skip: the rules, in order, each with the reason it gives.

1. deny / allow lists (category, brand);  2. a resale value exists;  3. Amazon listing restrictions (a gated brand
or category leaves only the other channels);  4. the best channel by profit;  5. a positive max price after fees
(else "negative ROI after fees");  6. days to sell and risk within bounds;  7. the per-item cap;
8. asking <= max price: buy;  9. asking within the negotiation room and the source takes messages: negotiate;
10. otherwise skip. Every number comes from profit.py / market.py; a model (when configured) may only explain
the verdict in words, never change it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from domain.arbitrage.config import ArbitrageConfig
from domain.arbitrage.fees import FeeBook, FeeLine, money
from domain.arbitrage.limits import list_violations
from domain.arbitrage.market import MarketQuote, Risk, Velocity, risk, sale_models, velocity
from domain.arbitrage.negotiation import opening_offer
from domain.arbitrage.offers import Identified, RawOffer, normalise_condition
from domain.arbitrage.profit import (
    ProfitBreakdown,
    SaleEstimate,
    max_purchase_price,
    profit,
    sale_estimate,
    with_fee,
)

Action = Literal["buy", "negotiate", "skip"]


class Verdict(BaseModel):
    action: Action
    confidence: float
    reasons: list[str]
    channel: str | None = None
    max_price: Decimal | None = None
    target_price: Decimal | None = None  # buy: asking; negotiate: our opening offer
    at_asking: ProfitBreakdown | None = None
    at_target: ProfitBreakdown | None = None
    days_to_sell: int | None = None
    risk: Risk | None = None
    velocity: Velocity | None = None

    @property
    def worth_acting(self) -> bool:
        return self.action != "skip"


def _skip(reason: str, **kw: object) -> Verdict:
    return Verdict(action="skip", confidence=1.0, reasons=[reason], **kw)  # type: ignore[arg-type]


def estimates(
    quote: MarketQuote, *, condition: str, config: ArbitrageConfig, book: FeeBook, day: date
) -> list[SaleEstimate]:
    models = sale_models(
        quote,
        condition=condition,
        channels=config.channels,
        ebay_shipping_cost=config.ebay_shipping_cost,
        mfn_shipping_cost=config.mfn_shipping_cost,
        buyer_tax_rate=config.buyer_tax_rate,
    )
    out = [sale_estimate(m, book, day) for m in models]
    if quote.amazon_fees_estimate is not None and quote.amazon_price:
        # Amazon's own estimate (at the buy box) above our table's figure at the same price: trust the higher one
        fba = next((m for m in models if m.channel == "amazon_fba"), None)
        if fba is not None:
            at_bb = sale_estimate(fba.model_copy(update={"price": quote.amazon_price}), book, day).total_fees
            gap = money(quote.amazon_fees_estimate - at_bb)
            if gap > 0:
                out = [
                    with_fee(
                        e, FeeLine(kind="estimate_gap", amount=gap, detail="Amazon's fee estimate is higher")
                    )
                    if e.channel == "amazon_fba"
                    else e
                    for e in out
                ]
    return out


def decide(
    offer: RawOffer,
    identified: Identified,
    quote: MarketQuote | None,
    *,
    config: ArbitrageConfig,
    book: FeeBook,
    day: date,
    sale: list[SaleEstimate] | None = None,
) -> Verdict:
    """The verdict on one offer. `sale`: the quote's per-channel estimates when the caller cached them (they do
    not depend on the offer, only on the product and its condition)."""
    limits = config.limits
    brand = (quote.brand if quote else None) or offer.brand
    category = (quote.category if quote else None) or offer.category
    listed = list_violations(limits, category=category, brand=brand)
    if listed:
        return _skip(listed[0])
    if quote is None or not quote.identified:
        return _skip(
            "no resale value found for this item" if identified.keys else "no product identifier found"
        )
    condition = normalise_condition(offer.condition)
    options = (
        sale if sale is not None else estimates(quote, condition=condition, config=config, book=book, day=day)
    )
    if not options:
        if quote.restricted:
            return _skip(
                f"restricted on Amazon ({quote.restriction_reason or 'approval required'}) and no other channel"
            )
        return _skip("no channel to resell on at a known price")
    at_asking = [profit(offer.price, offer.shipping, est, config.costs) for est in options]
    best_i = max(range(len(options)), key=lambda i: at_asking[i].profit)
    best, asking = options[best_i], at_asking[best_i]
    reasons = [
        f"best channel {best.channel}: sells at {best.sale_price}, fees {best.total_fees} ({best.fee_version})"
    ]
    if quote.restricted:
        reasons.append(
            f"Amazon restricted ({quote.restriction_reason or 'approval required'}): not listed there"
        )
    v = velocity(quote, best.channel)
    r = risk(quote, v)
    common = {
        "channel": best.channel,
        "at_asking": asking,
        "days_to_sell": v.days_to_sell,
        "risk": r,
        "velocity": v,
    }
    max_price = max_purchase_price(
        best, config.costs, shipping=offer.shipping, min_profit=limits.min_profit, min_roi=limits.min_roi
    )
    if max_price is None or max_price <= 0:
        return _skip(
            f"negative ROI after fees: profit at asking {asking.profit} ({asking.roi:.0%} ROI), "
            f"no price meets {limits.min_profit} and {limits.min_roi:.0%}",
            **common,
        )
    common["max_price"] = max_price
    if v.days_to_sell > config.max_days_to_sell:
        return _skip(f"too slow: about {v.days_to_sell} days to sell ({v.basis})", **common)
    if r.score > config.max_risk:
        return _skip(f"too risky: risk {r.score:.2f} > {config.max_risk:.2f}", **common)
    confidence = round(identified.confidence * (1 - 0.5 * r.score) * (1.0 if len(options) > 1 else 0.92), 4)
    reasons.append(
        f"max price {max_price} for >= {limits.min_profit} profit and >= {limits.min_roi:.0%} ROI; "
        f"about {v.days_to_sell} days to sell ({v.basis}); risk {r.score:.2f}"
    )
    if offer.price <= max_price:
        total = offer.price + offer.shipping
        if total > limits.per_item_cap:
            return _skip(f"purchase {total} exceeds the per-item cap {limits.per_item_cap}", **common)
        reasons.append(
            f"asking {offer.price} is within the max price: profit {asking.profit}, ROI {asking.roi:.0%}"
        )
        return Verdict(
            action="buy",
            confidence=confidence,
            reasons=reasons,
            target_price=offer.price,
            at_target=asking,
            **common,
        )
    room = config.negotiation.negotiation_room
    if offer.can_message and offer.price * (1 - room) <= max_price:
        move = opening_offer(asking=offer.price, max_price=max_price, rules=config.negotiation)
        if move.amount is not None and move.amount + offer.shipping <= limits.per_item_cap:
            at_target = profit(move.amount, offer.shipping, best, config.costs)
            reasons.append(
                f"asking {offer.price} is above the max {max_price}: negotiate from {move.amount} "
                f"(profit {at_target.profit} there)"
            )
            return Verdict(
                action="negotiate",
                confidence=round(confidence * 0.9, 4),
                reasons=reasons,
                target_price=move.amount,
                at_target=at_target,
                **common,
            )
    if asking.profit < 0:
        return _skip(
            f"negative ROI after fees: profit at asking {asking.profit} ({asking.roi:.0%} ROI); max price {max_price}",
            **common,
        )
    return _skip(f"asking {offer.price} is too far above the max price {max_price}", **common)
