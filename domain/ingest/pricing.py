"""A new listing's price: cost plus the target margin plus the marketplace's fees, then run through the pricing
engine (domain/repricing/engine.py) so it keeps the same constraints every repricing run keeps: never below the
minimum margin after fees, never above 95 % of the dearest competitor, moved toward (and a little under) the
cheapest competitor found by identifier, at most `max_change` away from the list price, rounded to the price ending.

The engine's inventory rules (age, stock level) do not apply to a product that is not for sale yet: the engine gets
a stock level between its low and high thresholds and an age of zero, so only competitors and constraints move it.
Without a cost there is no list price: the cheapest competitor is the only anchor, and without one the approver
names the price.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from domain.repricing.config import PricingConfig
from domain.repricing.engine import suggest_prices

CENT = Decimal("0.01")


class ListingPrice(BaseModel):
    price: Decimal | None
    list_price: Decimal | None
    floor: Decimal | None = None
    reasoning: str


def list_price(cost: Decimal, *, fee_rate: float, fee_fixed: float, target_margin: float) -> Decimal:
    """The lowest price whose proceeds after fees are cost x (1 + target_margin), rounded up to the cent."""
    if not 0 <= fee_rate < 1:
        raise ValueError("fee rate must be in [0, 1)")
    raw = (cost * Decimal(str(1 + target_margin)) + Decimal(str(fee_fixed))) / Decimal(str(1 - fee_rate))
    return raw.quantize(CENT, rounding=ROUND_CEILING)


def price_listing(
    *,
    sku: str,
    cost: Decimal | None,
    fee_rate: float,
    fee_fixed: float,
    target_margin: float,
    competitor_min: Decimal | None,
    competitor_max: Decimal | None,
    config: PricingConfig,
    today: date,
) -> ListingPrice:
    if cost is None:
        if competitor_min is None:
            return ListingPrice(price=None, list_price=None, reasoning="no cost and no competitor price")
        match = (competitor_min * Decimal(str(1 - config.rules.competitor_beat))).quantize(CENT)
        return ListingPrice(
            price=max(match, CENT),
            list_price=None,
            reasoning=f"no cost given: priced at the cheapest competitor ({competitor_min:.2f}) less "
            f"{config.rules.competitor_beat:.0%}; check the margin",
        )
    base = list_price(cost, fee_rate=fee_rate, fee_fixed=fee_fixed, target_margin=target_margin)
    neutral_stock = (config.rules.low_stock + config.rules.high_stock) // 2
    frame = pd.DataFrame(
        {
            "sku": [sku],
            "cost": [float(cost)],
            "price": [float(base)],
            "reference_price": [float(base)],
            "fee_rate": [fee_rate],
            "fee_fixed": [fee_fixed],
            "age_days": [0.0],
            "stock": [float(neutral_stock)],
            "competitor_min": [float(competitor_min) if competitor_min is not None else np.nan],
            "competitor_max": [float(competitor_max) if competitor_max is not None else np.nan],
        }
    )
    row = suggest_prices(frame, config, today=today).iloc[0]
    suggested = Decimal(str(row["suggested_price"])).quantize(CENT)
    floor = row["floor_price"]
    reasons = [
        f"cost {cost:.2f} + {target_margin:.0%} margin + fees ({fee_rate:.2%} + {fee_fixed:.2f}) = {base:.2f}"
    ]
    engine_why = str(row["reasoning"]).strip().rstrip(";")
    if engine_why and engine_why != "no rule applies; price holds":
        reasons.append(engine_why)
    if suggested != base:
        reasons.append(f"{suggested:.2f} within the engine's constraints and price ending")
    return ListingPrice(
        price=suggested,
        list_price=base,
        floor=None if math.isnan(floor) else Decimal(str(floor)).quantize(CENT, rounding=ROUND_CEILING),
        reasoning="; ".join(reasons),
    )
