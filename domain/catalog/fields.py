"""Validators for the individual fields of a catalog row. Each appends `RowIssue`s and returns the clean value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from domain.catalog.issues import IssueCode, RowIssue, Severity
from domain.currencies import ISO_4217
from domain.identifiers import NORMALISERS

TEXT_LIMITS = {"sku": 64, "name": 500, "brand": 200, "category": 200}
MONEY_FIELDS = ("cost", "price", "min_price", "max_price")
MAX_MONEY = Decimal("10000000000")  # the columns are NUMERIC(14, 4)
_CENT4 = Decimal("0.0001")
ATTRIBUTES_MAX_CHARS = 65_536
IMAGE_REF_MAX_CHARS = 2_000
IMAGE_REFS_MAX = 50
DEFAULT_CURRENCY = "USD"


def normalise_sku(value: Any) -> str | None:
    """The SKU as compared across rows (duplicates) and stored; None when absent."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return text or None


def warn(row: int, field: str, code: str, message: str) -> RowIssue:
    return RowIssue(row, field, code, message, Severity.WARNING)


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sku(value: Any, row: int, issues: list[RowIssue]) -> str | None:
    if isinstance(value, dict | list | bool):
        issues.append(RowIssue(row, "sku", IssueCode.INVALID_VALUE, "sku must be text"))
        return None
    sku = normalise_sku(value)
    if sku is None:
        issues.append(RowIssue(row, "sku", IssueCode.MISSING_VALUE, "sku is required"))
    elif len(sku) > TEXT_LIMITS["sku"]:
        issues.append(
            RowIssue(
                row,
                "sku",
                IssueCode.TOO_LONG,
                f"sku is {len(sku)} characters long; at most {TEXT_LIMITS['sku']} allowed",
            )
        )
    elif not sku.isprintable():
        issues.append(
            RowIssue(row, "sku", IssueCode.INVALID_VALUE, "sku contains control or invisible characters")
        )
    else:
        return sku
    return None


def text(
    values: Mapping[str, Any], field: str, row: int, issues: list[RowIssue], *, required: bool = False
) -> str | None:
    value = values.get(field)
    if blank(value):
        if required:
            issues.append(RowIssue(row, field, IssueCode.MISSING_VALUE, f"{field} is required"))
        return None
    if isinstance(value, dict | list | bool):
        issues.append(RowIssue(row, field, IssueCode.INVALID_VALUE, f"{field} must be text"))
        return None
    # one space between words: embedded newlines and tabs from spreadsheets are noise in a title
    text = " ".join(str(value).split())
    limit = TEXT_LIMITS[field]
    if len(text) > limit:
        issues.append(
            RowIssue(
                row,
                field,
                IssueCode.TOO_LONG,
                f"{field} is {len(text)} characters long; at most {limit} allowed",
            )
        )
        return None
    return text


def money(value: Any, field: str, row: int, issues: list[RowIssue], *, required: bool) -> Decimal | None:
    if blank(value):
        if required:
            issues.append(RowIssue(row, field, IssueCode.MISSING_VALUE, f"{field} is required"))
        return None
    try:
        if isinstance(value, str):
            amount = Decimal(value.strip())
        elif isinstance(value, float):
            amount = Decimal(
                repr(value)
            )  # the shortest exact text (12.99 -> "12.99"): JSON numbers stay exact
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            amount = Decimal(value)
        else:
            raise InvalidOperation
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        issues.append(
            RowIssue(
                row,
                field,
                IssueCode.INVALID_VALUE,
                f"{field} must be a number like 12.50 (dot as decimal separator, no currency "
                f"sign), got {clip(str(value))!r}",
            )
        )
        return None
    if amount < 0:
        issues.append(
            RowIssue(row, field, IssueCode.INVALID_VALUE, f"{field} must not be negative, got {amount}")
        )
        return None
    if amount >= MAX_MONEY:
        issues.append(RowIssue(row, field, IssueCode.INVALID_VALUE, f"{field} {amount} is too large"))
        return None
    return amount.quantize(_CENT4, rounding=ROUND_HALF_UP)


def show(amount: Decimal) -> str:
    """12.5000 -> "12.50" for messages; keeps extra places when they matter (12.3456)."""
    cents = amount.quantize(Decimal("0.01"))
    return str(cents) if cents == amount else str(amount.normalize())


def money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def currency(value: Any, row: int, issues: list[RowIssue]) -> str:
    if blank(value):
        return DEFAULT_CURRENCY
    code = str(value).strip().upper()
    if code not in ISO_4217:
        issues.append(
            RowIssue(
                row,
                "currency",
                IssueCode.INVALID_VALUE,
                f"currency must be an ISO 4217 code like USD or EUR, got {clip(str(value))!r}",
            )
        )
    return code


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


# built once: json.loads / json.dumps with options construct a new decoder / encoder on every call
DECODER = json.JSONDecoder(parse_constant=_reject_constant)
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def attributes(value: Any, row: int, issues: list[RowIssue]) -> dict[str, Any] | None:
    if blank(value):
        return {}
    parsed = value
    if isinstance(value, str):
        try:
            parsed = DECODER.decode(value)
        except ValueError as exc:
            issues.append(
                RowIssue(
                    row,
                    "attributes",
                    IssueCode.INVALID_VALUE,
                    f"attributes must be a JSON object: {clip(str(exc), 120)}",
                )
            )
            return None
    if not isinstance(parsed, dict):
        issues.append(
            RowIssue(
                row,
                "attributes",
                IssueCode.INVALID_VALUE,
                'attributes must be a JSON object like {"color": "red"}',
            )
        )
        return None
    # compact JSON is never longer than the text it was parsed from: only long texts need measuring
    size = len(value) if isinstance(value, str) else ATTRIBUTES_MAX_CHARS + 1
    if size > ATTRIBUTES_MAX_CHARS:
        size = len(json.dumps(parsed, ensure_ascii=False, separators=(",", ":")))
    if size > ATTRIBUTES_MAX_CHARS:
        issues.append(
            RowIssue(
                row,
                "attributes",
                IssueCode.TOO_LONG,
                f"attributes are {size} characters long; at most {ATTRIBUTES_MAX_CHARS} allowed",
            )
        )
        return None
    return parsed


def image_refs(value: Any, row: int, issues: list[RowIssue]) -> list[str]:
    if blank(value):
        return []
    refs: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                refs = json.loads(text)
            except ValueError:
                refs = None
        else:
            refs = text.split("|")
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        issues.append(
            RowIssue(
                row,
                "image_refs",
                IssueCode.INVALID_VALUE,
                "image_refs must be references separated by '|' or a JSON list of strings",
            )
        )
        return []
    cleaned = [r.strip() for r in refs if r.strip()]
    if len(cleaned) > IMAGE_REFS_MAX:
        issues.append(
            RowIssue(
                row,
                "image_refs",
                IssueCode.TOO_LONG,
                f"{len(cleaned)} image references; at most {IMAGE_REFS_MAX} allowed",
            )
        )
    elif any(len(r) > IMAGE_REF_MAX_CHARS for r in cleaned):
        issues.append(
            RowIssue(
                row,
                "image_refs",
                IssueCode.TOO_LONG,
                f"an image reference is longer than {IMAGE_REF_MAX_CHARS} characters",
            )
        )
    return cleaned


def _gtin_as(value: Any) -> tuple[str, str] | None:
    """A GTIN column's value as the UPC (12 digits) or EAN (8 / 13) it is; GTIN-14s with a leading 0 are EAN-13s."""
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    if len(digits) == 14 and digits.startswith("0"):
        digits = digits[1:]
    kind = {12: "upc", 13: "ean", 8: "ean"}.get(len(digits))
    return (kind, digits) if kind else None


def identifiers(values: Mapping[str, Any], row: int, issues: list[RowIssue]) -> dict[str, str]:
    found: dict[str, str] = {}
    if not blank(values.get("gtin")):
        routed = _gtin_as(values["gtin"])
        if routed is None:
            issues.append(
                RowIssue(row, "gtin", IssueCode.INVALID_VALUE, "gtin must have 8, 12, 13 or 14 digits")
            )
        elif blank(values.get(routed[0])):
            values = {**values, routed[0]: routed[1]}
    for kind, normalise in NORMALISERS.items():
        value = values.get(kind)
        if blank(value):
            continue
        if isinstance(value, dict | list | bool):
            issues.append(RowIssue(row, kind, IssueCode.INVALID_VALUE, f"{kind} must be text"))
            continue
        clean, error = normalise(str(value))
        if error is not None:
            issues.append(RowIssue(row, kind, IssueCode.INVALID_VALUE, error))
        elif clean:
            found[kind] = clean
    return found


def check_prices(
    cost: Decimal | None,
    price: Decimal | None,
    low: Decimal | None,
    high: Decimal | None,
    row: int,
    issues: list[RowIssue],
) -> None:
    if low is not None and high is not None and low > high:
        issues.append(
            RowIssue(
                row,
                "min_price",
                IssueCode.INCONSISTENT,
                f"min_price {show(low)} is above max_price {show(high)}",
            )
        )
        return
    if price is None:
        return
    if (low is not None and price < low) or (high is not None and price > high):
        issues.append(
            warn(
                row,
                "price",
                IssueCode.INCONSISTENT,
                f"price {show(price)} is outside the range min_price..max_price",
            )
        )
    if cost is not None and price < cost:
        issues.append(
            warn(row, "price", IssueCode.INCONSISTENT, f"price {show(price)} is below cost {show(cost)}")
        )
