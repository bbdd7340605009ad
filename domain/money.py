"""Money as the database keeps it: NUMERIC(14, 4), so at most 10 digits before the point and 4 after.

Every amount a person or a process hands in (a proposal, an edited price) goes through `parse_money` before it is
stored or acted on: "Infinity", "NaN", 1e30 or a negative price would otherwise be stored, executed, or end as a raw
`decimal.InvalidOperation` somewhere far from the input. Messages name the field and are shown to people as they are.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

SCALE = 4  # digits after the point (the column's scale)
INTEGER_DIGITS = 10  # precision 14 - scale 4
LIMIT = Decimal(10) ** INTEGER_DIGITS  # exclusive
_QUANTUM = Decimal(1).scaleb(-SCALE)
MONEY_MAX = LIMIT - _QUANTUM  # the largest amount the columns hold: 9,999,999,999.9999

# keys of a proposal's `current` / `proposed` that hold money: a price must be above zero, the others may be zero
POSITIVE_KEYS = frozenset({"price", "unit_price", "unit_cost"})
NON_NEGATIVE_KEYS = frozenset({"cost", "shipping", "amount", "total", "min_price", "max_price"})
MONEY_KEYS = POSITIVE_KEYS | NON_NEGATIVE_KEYS


class MoneyError(ValueError):
    """An amount that cannot be money; the message is meant for the person who typed it."""


def parse_money(value: Any, *, field: str = "amount", minimum: str = "positive") -> Decimal:
    """The amount as a Decimal, or MoneyError. `minimum`: "positive" (> 0), "zero" (>= 0) or "any" (signed,
    for deltas)."""
    if value is None or isinstance(value, bool) or isinstance(value, dict | list):
        raise MoneyError(f"{field} must be a number")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise MoneyError(f"{field} must be a number, not {shown!r}") from None
    if not amount.is_finite():
        raise MoneyError(f"{field} must be a finite number, not {text!r}")
    if amount.copy_abs() >= LIMIT:  # before any arithmetic: a huge exponent would overflow the context
        raise MoneyError(
            f"{field} must be less than {LIMIT:,} (at most {INTEGER_DIGITS} digits before the point)"
        )
    if amount != amount.quantize(_QUANTUM):
        raise MoneyError(f"{field} has more than {SCALE} decimal places")
    if minimum == "positive" and amount <= 0:
        raise MoneyError(f"{field} must be a positive number")
    if minimum == "zero" and amount < 0:
        raise MoneyError(f"{field} must not be negative")
    return amount


def money_text(amount: Decimal) -> str:
    """Plain fixed-point text, no exponent ("1E+1" -> "10"), as money travels in JSON."""
    return format(amount, "f")


def check_money_fields(values: dict[str, Any], *, where: str, allow_missing: bool) -> None:
    """Every money key present in a proposal's value dict is valid money. `allow_missing`: None stands for
    "unknown" (a current price a listing does not have yet), and zero is allowed for facts."""
    for key in MONEY_KEYS & values.keys():
        value = values[key]
        if value is None and allow_missing:
            continue
        minimum = "positive" if key in POSITIVE_KEYS and not allow_missing else "zero"
        parse_money(value, field=f"{where}.{key}", minimum=minimum)
