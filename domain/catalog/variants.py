"""A catalog row's fields beyond the product's own content: its stock (`quantity`, set through the ledger) and its
place among variants (`parent_sku`, `options`). Same contract as `fields.py`: append `RowIssue`s, return the clean
value or None."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from domain.catalog.fields import DECODER, TEXT_LIMITS, blank, clip, normalise_sku, warn
from domain.catalog.issues import IssueCode, RowIssue

QUANTITY_MAX = 10_000_000
OPTIONS_MAX = 20


def quantity(value: Any, row: int, issues: list[RowIssue]) -> int | None:
    """Units on hand: a whole number from 0 ("12", 12, "12.0" from spreadsheets)."""
    if blank(value):
        return None
    text = str(value).strip()
    try:
        number = Decimal(text)
        if not number.is_finite() or number != number.to_integral_value():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        issues.append(
            RowIssue(
                row,
                "quantity",
                IssueCode.INVALID_VALUE,
                f"quantity must be a whole number, got {clip(text)!r}",
            )
        )
        return None
    if number < 0 or number > QUANTITY_MAX:
        issues.append(
            RowIssue(
                row,
                "quantity",
                IssueCode.INVALID_VALUE,
                f"quantity must be between 0 and {QUANTITY_MAX}, got {text}",
            )
        )
        return None
    return int(number)


def parent_sku(value: Any, own: str | None, row: int, issues: list[RowIssue]) -> str | None:
    parent = normalise_sku(value)
    if parent is None:
        return None
    if len(parent) > TEXT_LIMITS["sku"]:
        issues.append(
            RowIssue(
                row,
                "parent_sku",
                IssueCode.TOO_LONG,
                f"parent_sku is longer than {TEXT_LIMITS['sku']} characters",
            )
        )
        return None
    if parent == own:
        issues.append(
            warn(row, "parent_sku", IssueCode.INCONSISTENT, "parent_sku is the product's own SKU: ignored")
        )
        return None
    return parent


def options(value: Any, row: int, issues: list[RowIssue]) -> dict[str, Any] | None:
    """A variant's options: a JSON object, or "Size=M; Color=Red"."""
    if blank(value):
        return None
    parsed: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = DECODER.decode(text)
            except ValueError:
                parsed = None
        else:
            pairs = [p.split("=", 1) for p in text.split(";") if p.strip()]
            parsed = {k.strip(): v.strip() for k, v in pairs} if all(len(p) == 2 for p in pairs) else None
    if (
        not isinstance(parsed, dict)
        or len(parsed) > OPTIONS_MAX
        or not all(isinstance(v, str | int | float) for v in parsed.values())
    ):
        issues.append(RowIssue(row, "options", IssueCode.INVALID_VALUE,
                               'options must be like {"Size": "M"} or Size=M; Color=Red'))  # fmt: skip
        return None
    return {str(k): str(v) for k, v in parsed.items()} or None
