"""Sales-history rows from uploaded files: header checks, per-row validation, buyer pseudonymisation and the
business key of a sale line. Pure: values in, `SaleRow` + `RowIssue`s out (the catalog's issue vocabulary).

Columns: date, sku, quantity (required); unit_price, channel, store, buyer_id, order_id (optional). Quantity may be
negative (a return). Buyer ids leave this module only as a keyed hash (HMAC-SHA256): the same buyer gets the same
token under one key, and nobody without the key can get back to the id; the id itself is never stored.

The line key makes a re-import idempotent: it is the hash of the row's content plus its occurrence number among
identical rows of the same file, so the same file (or a later export that repeats it) adds nothing twice, while
two identical sales in one file stay two sales.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.catalog import fields
from domain.catalog.issues import IssueCode, RowIssue, Severity
from domain.catalog.rows import column_key

REQUIRED = ("date", "sku", "quantity")
OPTIONAL = ("unit_price", "channel", "store", "buyer_id", "order_id")
KNOWN = frozenset(REQUIRED + OPTIONAL)
ALIASES = {"qty": "quantity", "price": "unit_price", "buyer": "buyer_id", "customer_id": "buyer_id"}
MAX_QUANTITY = 1_000_000
_TEXT = {"channel": 64, "store": 64, "order_id": 200, "buyer_id": 200}
MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2100, 1, 1)


@dataclass(frozen=True, slots=True)
class SalesHeader:
    columns: tuple[str, ...]  # normalised name per position, "" = ignored
    issues: tuple[RowIssue, ...]

    @property
    def fatal(self) -> bool:
        return any(i.severity == Severity.ERROR for i in self.issues)


@dataclass(slots=True)
class SaleRow:
    sold_on: date
    sku: str
    quantity: int
    unit_price: Decimal | None
    channel: str | None
    store: str | None
    buyer_id: str | None  # raw: pseudonymise before storing
    order_id: str | None

    def content_key(self, buyer_token: str | None) -> str:
        price = None if self.unit_price is None else fields.money_text(self.unit_price)
        parts = [self.sold_on.isoformat(), self.sku, str(self.quantity), price, self.channel, self.store]
        parts += [buyer_token, self.order_id]
        return hashlib.sha256("\x1f".join("" if p is None else p for p in parts).encode()).hexdigest()


def sales_column(raw: str) -> str:
    key = column_key(raw)
    return ALIASES.get(key, key)


def check_sales_header(raw_columns: Sequence[str]) -> SalesHeader:
    keys = [sales_column(c) for c in raw_columns]
    issues: list[RowIssue] = []
    seen: set[str] = set()
    columns: list[str] = []
    for key in keys:
        if key in seen and key in KNOWN:
            issues.append(RowIssue(0, key, IssueCode.DUPLICATE_COLUMN, f"column '{key}' appears twice"))
        columns.append(key if key in KNOWN and key not in seen else "")
        seen.add(key)
    unknown = sorted(k for k in seen if k and k not in KNOWN)
    for key in unknown[:20]:
        name = fields.clip(key)
        issues.append(fields.warn(0, name, IssueCode.UNKNOWN_COLUMN, f"unknown column '{name}' is ignored"))
    found = fields.clip(", ".join(fields.clip(k) for k in keys[:30] if k), 200)
    for required in REQUIRED:
        if required not in seen:
            message = f"required column '{required}' is missing (found: {found})"
            issues.append(RowIssue(0, required, IssueCode.MISSING_COLUMN, message))
    return SalesHeader(tuple(columns), tuple(issues[:60]))


def unknown_sales_keys(keys: set[str]) -> list[str]:
    return sorted(k for k in keys if sales_column(k) not in KNOWN)


def _date(value: Any, row: int, issues: list[RowIssue]) -> date | None:
    if fields.blank(value):
        issues.append(RowIssue(row, "date", IssueCode.MISSING_VALUE, "date is required"))
        return None
    text = str(value).strip()
    try:
        day = (datetime.fromisoformat(text.replace("Z", "+00:00")) if len(text) > 10 else None) or (
            date.fromisoformat(text)
        )
    except ValueError:
        issues.append(
            RowIssue(
                row, "date", IssueCode.INVALID_VALUE,
                f"date must be ISO 8601 like 2025-03-31 or 2025-03-31T14:05:00Z, got {fields.clip(text)!r}",
            )
        )  # fmt: skip
        return None
    d = day.date() if isinstance(day, datetime) else day
    if not MIN_DATE <= d < MAX_DATE:
        issues.append(RowIssue(row, "date", IssueCode.INVALID_VALUE, f"date {d} is out of range"))
        return None
    return d


def _quantity(value: Any, row: int, issues: list[RowIssue]) -> int | None:
    if fields.blank(value):
        issues.append(RowIssue(row, "quantity", IssueCode.MISSING_VALUE, "quantity is required"))
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        q = Decimal(str(value).strip())
        if not q.is_finite() or q != q.to_integral_value():
            raise ValueError
    except (ValueError, ArithmeticError):
        message = f"quantity must be a whole number (negative for a return), got {fields.clip(str(value))!r}"
        issues.append(RowIssue(row, "quantity", IssueCode.INVALID_VALUE, message))
        return None
    if q == 0 or abs(q) > MAX_QUANTITY:
        message = f"quantity must be non-zero and at most {MAX_QUANTITY:,} in size, got {q}"
        issues.append(RowIssue(row, "quantity", IssueCode.INVALID_VALUE, message))
        return None
    return int(q)


def _text(values: Mapping[str, Any], name: str, row: int, issues: list[RowIssue]) -> str | None:
    value = values.get(name)
    if fields.blank(value):
        return None
    if isinstance(value, dict | list | bool):
        issues.append(RowIssue(row, name, IssueCode.INVALID_VALUE, f"{name} must be text"))
        return None
    text = str(value).strip()
    if len(text) > _TEXT[name]:
        message = f"{name} is {len(text)} characters long; at most {_TEXT[name]} allowed"
        issues.append(RowIssue(row, name, IssueCode.TOO_LONG, message))
        return None
    return text


def normalise_sale(values: Mapping[str, Any], row: int) -> tuple[SaleRow | None, list[RowIssue]]:
    issues: list[RowIssue] = []
    sold_on = _date(values.get("date"), row, issues)
    sku = fields.sku(values.get("sku"), row, issues)
    quantity = _quantity(values.get("quantity"), row, issues)
    price = fields.money(values.get("unit_price"), "unit_price", row, issues, required=False)
    channel, store = _text(values, "channel", row, issues), _text(values, "store", row, issues)
    buyer, order = _text(values, "buyer_id", row, issues), _text(values, "order_id", row, issues)
    if any(i.severity == Severity.ERROR for i in issues):
        return None, issues
    assert sold_on is not None and sku is not None and quantity is not None
    return SaleRow(sold_on, sku, quantity, price, channel, store, buyer, order), issues


def buyer_token(key: bytes, buyer_id: str) -> str:
    """Keyed, irreversible, stable: 32 hex characters (the same rule as domain.analytics.customers)."""
    if len(key) < 16:
        raise ValueError("the pseudonymisation key must be at least 16 bytes")
    return hmac.new(key, buyer_id.encode(), hashlib.sha256).hexdigest()[:32]


def line_key(content_key: str, occurrence: int) -> str:
    """`imp:` + the content hash + the occurrence number among identical rows (0 for the first)."""
    return f"imp:{content_key[:64]}:{occurrence}"
