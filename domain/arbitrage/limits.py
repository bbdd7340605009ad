"""Safety limits: what the loop may never do on its own, checked before any money moves.

The shell reads the exposure (spend so far in the day and the week, held reservations, units of the product
bought and unsold, landed cost of everything bought and not yet sold) under a lock and asks `violations`; an
empty answer lets it reserve the amount in the same transaction, so two concurrent deals cannot both pass
against the same remaining budget.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field


class SafetyLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    daily_spend_cap: Decimal = Field(Decimal(500), ge=0)  # per calendar day in the configured time zone
    weekly_spend_cap: Decimal = Field(Decimal(2000), ge=0)  # per ISO week (Monday to Sunday)
    per_item_cap: Decimal = Field(Decimal(300), ge=0)  # one purchase, everything included
    max_units_per_product: int = Field(3, ge=0)  # bought and not yet sold, per product key
    max_inventory_at_risk: Decimal = Field(Decimal(3000), ge=0)  # landed cost of all bought, unsold stock
    min_profit: Decimal = Field(Decimal(10), ge=0)  # per unit, after every fee
    min_roi: Decimal = Field(Decimal("0.30"), ge=0, le=100)  # profit / landed cost
    # lower-case names; an empty allow list allows everything not denied
    allowed_categories: frozenset[str] = frozenset()
    denied_categories: frozenset[str] = frozenset()
    allowed_brands: frozenset[str] = frozenset()
    denied_brands: frozenset[str] = frozenset()


class Exposure(BaseModel):
    """Money and stock already committed, read under the budget lock."""

    spent_today: Decimal = Decimal(0)  # purchases and held reservations dated today
    spent_week: Decimal = Decimal(0)
    units_of_product: int = 0
    inventory_at_risk: Decimal = Decimal(0)


def _norm(name: str | None) -> str:
    return " ".join((name or "").lower().replace("&", "and").split())


def list_violations(limits: SafetyLimits, *, category: str | None, brand: str | None) -> list[str]:
    """Allow and deny lists: checked while scanning (no money involved) and again before buying."""
    out = []
    cat, br = _norm(category), _norm(brand)
    if cat and cat in limits.denied_categories:
        out.append(f"category {category!r} is on the deny list")
    if limits.allowed_categories and cat not in limits.allowed_categories:
        out.append(f"category {category or '(unknown)'!r} is not on the allow list")
    if br and br in limits.denied_brands:
        out.append(f"brand {brand!r} is on the deny list")
    if limits.allowed_brands and br not in limits.allowed_brands:
        out.append(f"brand {brand or '(unknown)'!r} is not on the allow list")
    return out


def violations(
    limits: SafetyLimits,
    exposure: Exposure,
    *,
    amount: Decimal,
    units: int,
    profit: Decimal,
    roi: Decimal,
    category: str | None,
    brand: str | None,
) -> list[str]:
    """Every limit `amount` (the whole purchase: price, shipping, tax) would break; empty when it may go ahead."""
    out = list_violations(limits, category=category, brand=brand)
    if amount > limits.per_item_cap:
        out.append(f"purchase {amount} exceeds the per-item cap {limits.per_item_cap}")
    if exposure.spent_today + amount > limits.daily_spend_cap:
        out.append(
            f"daily spend cap {limits.daily_spend_cap}: {exposure.spent_today} committed today, {amount} more"
        )
    if exposure.spent_week + amount > limits.weekly_spend_cap:
        out.append(
            f"weekly spend cap {limits.weekly_spend_cap}: {exposure.spent_week} committed this week, {amount} more"
        )
    if exposure.units_of_product + units > limits.max_units_per_product:
        out.append(
            f"max {limits.max_units_per_product} units per product: {exposure.units_of_product} held already"
        )
    if exposure.inventory_at_risk + amount > limits.max_inventory_at_risk:
        out.append(
            f"max inventory at risk {limits.max_inventory_at_risk}: {exposure.inventory_at_risk} unsold already"
        )
    if profit < limits.min_profit:
        out.append(f"profit {profit} is below the minimum {limits.min_profit}")
    if roi < limits.min_roi:
        out.append(f"ROI {roi:.0%} is below the minimum {limits.min_roi:.0%}")
    return out


def windows(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """Start of today and of this ISO week in `time_zone`, as aware datetimes (the spend windows)."""
    local = now.astimezone(ZoneInfo(time_zone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=local.weekday())
    return day_start, week_start


def spend_day(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()
