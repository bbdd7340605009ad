"""Fee schedules as data, each version with the day it took effect, so a decision taken last year is explained
again with last year's fees (`FeeBook.on(marketplace, day)`).

Two shapes of percentage fee appear in the marketplaces' schedules:
- "portion": each rate applies to the part of the amount inside its band (Amazon jewellery: 20 % of the first
  $250, 5 % of the rest; eBay: 13.25 % up to $7,500, 2.35 % above);
- "band": the band the whole amount falls in sets one rate for all of it (Amazon clothing since 2024: 5 % at
  $15 or less, 10 % up to $20, 17 % above).
The published numbers themselves live in `fee_data.py`, with their sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CENT = Decimal("0.01")
ZERO = Decimal(0)
OUNCES_PER_POUND = Decimal(16)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


class Tier(BaseModel):
    model_config = ConfigDict(frozen=True)

    up_to: Decimal | None  # upper edge of the band (inclusive); None: no upper edge
    rate: Decimal  # fraction, 0.15 = 15 %


class RateTiers(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: Literal["portion", "band"] = "portion"
    tiers: tuple[Tier, ...]

    def fee(self, amount: Decimal) -> Decimal:
        if amount <= 0:
            return ZERO
        if self.mode == "band":
            for t in self.tiers:
                if t.up_to is None or amount <= t.up_to:
                    return amount * t.rate
            return amount * self.tiers[-1].rate
        total, lower = ZERO, ZERO
        for t in self.tiers:
            upper = amount if t.up_to is None else min(amount, t.up_to)
            if upper > lower:
                total += (upper - lower) * t.rate
            if t.up_to is None or amount <= t.up_to:
                break
            lower = t.up_to
        return total


def flat(rate: str) -> RateTiers:
    return RateTiers(tiers=(Tier(up_to=None, rate=Decimal(rate)),))


class CategoryFee(BaseModel):
    """One fee category of a marketplace: its percentage, minimum per item and fixed closing fee."""

    model_config = ConfigDict(frozen=True)

    rates: RateTiers
    minimum: Decimal = ZERO  # Amazon's per-item minimum referral fee (the greater of the two is charged)
    closing: Decimal = ZERO  # Amazon's closing fee on media (books, music, video, DVD)
    # Amazon charges media referral fees on the item price only, everything else on price + shipping + gift wrap
    on_item_price_only: bool = False


class WeightBand(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_oz: Decimal  # shipping weight, inclusive upper edge, in ounces
    fee: Decimal


class SizeTierFees(BaseModel):
    """Fulfilment fee per unit by shipping weight; above the last band: base + step per increment."""

    model_config = ConfigDict(frozen=True)

    bands: tuple[WeightBand, ...]
    over_base: Decimal | None = None  # fee at the last band's upper edge when the weight goes above it
    over_step_fee: Decimal = ZERO
    over_step_oz: Decimal = Decimal(16)
    max_oz: Decimal | None = None  # heavier than this is not this tier

    def fee(self, weight_oz: Decimal) -> Decimal | None:
        if self.max_oz is not None and weight_oz > self.max_oz:
            return None
        for band in self.bands:
            if weight_oz <= band.max_oz:
                return band.fee
        if self.over_base is None:
            return None
        above = weight_oz - self.bands[-1].max_oz
        steps = (above / self.over_step_oz).to_integral_value(ROUND_CEILING)
        return self.over_base + steps * self.over_step_fee


class PerOrderFee(BaseModel):
    model_config = ConfigDict(frozen=True)

    up_to: Decimal | None  # order total, inclusive
    fee: Decimal


class FeeVersion(BaseModel):
    """One marketplace's schedule from `effective_from` until the next version takes over."""

    model_config = ConfigDict(frozen=True)

    marketplace: str
    version: str  # e.g. "amazon-us-2024-02-05": recorded with every evaluation that used it
    effective_from: date
    source: str  # the published page the numbers come from
    categories: dict[str, CategoryFee]
    default_category: str
    # eBay: a fixed fee per order on top of the final value fee, by order total
    per_order: tuple[PerOrderFee, ...] = ()
    # the percentage base includes the buyer's sales tax (eBay since 2020) or not (Amazon)
    base_includes_tax: bool = False
    # Amazon FBA: fee per unit by size tier
    fulfilment: dict[str, SizeTierFees] = Field(default_factory=dict)

    def category(self, name: str | None) -> tuple[str, CategoryFee]:
        key = name if name in self.categories else self.default_category
        return key, self.categories[key]

    def per_order_fee(self, order_total: Decimal) -> Decimal:
        for p in self.per_order:
            if p.up_to is None or order_total <= p.up_to:
                return p.fee
        return ZERO


class FeeBook(BaseModel):
    versions: tuple[FeeVersion, ...]

    def on(self, marketplace: str, day: date) -> FeeVersion:
        """The version in force on `day` (the latest whose effective date is not after it)."""
        found = [v for v in self.versions if v.marketplace == marketplace and v.effective_from <= day]
        if not found:
            raise LookupError(f"no {marketplace} fee schedule in force on {day.isoformat()}")
        return max(found, key=lambda v: v.effective_from)

    def history(self, marketplace: str) -> list[FeeVersion]:
        return sorted(
            (v for v in self.versions if v.marketplace == marketplace), key=lambda v: v.effective_from
        )


# ---------------------------------------------------------------- the fee lines of one sale
class FeeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # referral | closing | fulfilment | final_value | per_order | payment | shipping
    amount: Decimal
    detail: str = ""


def amazon_fees(
    v: FeeVersion,
    *,
    price: Decimal,
    shipping_charged: Decimal = ZERO,
    category: str | None,
    size_tier: str | None = None,
    weight_oz: Decimal | None = None,
) -> list[FeeLine]:
    """Referral (the greater of the percentage and the minimum), closing fee on media, FBA fulfilment when a size
    tier is given (None: the seller ships, see `shipping` in profit.py)."""
    key, cat = v.category(category)
    base = price if cat.on_item_price_only else price + shipping_charged
    referral = max(money(cat.rates.fee(base)), cat.minimum)
    lines = [FeeLine(kind="referral", amount=referral, detail=f"{key} ({v.version})")]
    if cat.closing:
        lines.append(FeeLine(kind="closing", amount=cat.closing, detail=key))
    if size_tier is not None:
        tier = v.fulfilment.get(size_tier)
        fee = tier.fee(weight_oz or ZERO) if tier else None
        if fee is None:
            raise LookupError(f"no FBA fee for size tier {size_tier!r} at {weight_oz} oz in {v.version}")
        lines.append(FeeLine(kind="fulfilment", amount=fee, detail=f"{size_tier}, {weight_oz} oz"))
    return lines


def ebay_fees(
    v: FeeVersion,
    *,
    price: Decimal,
    shipping_charged: Decimal = ZERO,
    buyer_tax_rate: Decimal = ZERO,
    category: str | None,
) -> list[FeeLine]:
    """Final value fee on the total amount of the sale (item + shipping + the sales tax eBay collects) plus the
    per-order fee, whose size depends on the order total."""
    key, cat = v.category(category)
    total = price + shipping_charged
    if v.base_includes_tax:
        total = total + money(total * buyer_tax_rate)
    return [
        FeeLine(kind="final_value", amount=money(cat.rates.fee(total)), detail=f"{key} ({v.version})"),
        FeeLine(kind="per_order", amount=v.per_order_fee(total), detail=f"order total {money(total)}"),
    ]


def total(lines: Sequence[FeeLine]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


# ---------------------------------------------------------------- FBA size tiers
def size_tier(
    *, length_in: Decimal, width_in: Decimal, height_in: Decimal, weight_lb: Decimal
) -> tuple[str, Decimal]:
    """Amazon US product size tier (2024 definitions) and the shipping weight in ounces the fee is charged on.

    Sides are sorted (longest, median, shortest). Small standard is charged on unit weight; the larger tiers on
    the greater of unit weight and dimensional weight (length x width x height / 139)."""
    longest, median, shortest = sorted((length_in, width_in, height_in), reverse=True)
    unit_oz = weight_lb * OUNCES_PER_POUND
    if unit_oz <= 16 and longest <= 15 and median <= 12 and shortest <= Decimal("0.75"):
        return "small_standard", unit_oz
    dim_oz = (longest * median * shortest / Decimal(139)) * OUNCES_PER_POUND
    billed = max(unit_oz, dim_oz)
    if billed <= 20 * OUNCES_PER_POUND and longest <= 18 and median <= 14 and shortest <= 8:
        return "large_standard", billed
    girth = 2 * (median + shortest)
    if (
        billed <= 50 * OUNCES_PER_POUND
        and longest <= 59
        and median <= 33
        and shortest <= 33
        and longest + girth <= 130
    ):
        return "large_bulky", billed
    return "extra_large", billed
