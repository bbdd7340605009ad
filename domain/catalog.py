"""Catalog rows: header checks, per-row validation / normalisation and the content hash of a product.

Pure: values come in as a mapping (CSV cells are strings, JSON lines may carry numbers, objects and lists)
and go out as a `ProductRow` plus `RowIssue`s that name the row, the field and what to fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain import catalog_fields as fields
from domain.catalog_fields import normalise_sku
from domain.catalog_issues import IssueCode, RowIssue, Severity
from domain.identifiers import NORMALISERS

__all__ = ["IssueCode", "RowIssue", "Severity", "normalise_sku"]

REQUIRED_COLUMNS = ("sku", "name", "cost")
IDENTIFIER_COLUMNS = tuple(NORMALISERS)
OPTIONAL_COLUMNS = (
    "brand",
    "category",
    "price",
    "min_price",
    "max_price",
    "currency",
    "attributes",
    "image_refs",
    *IDENTIFIER_COLUMNS,
)
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
_OTHER_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'"))


@dataclass(frozen=True, slots=True)
class HeaderCheck:
    columns: tuple[str, ...]  # normalised column name per position; "" = ignored column
    issues: tuple[RowIssue, ...]

    @property
    def fatal(self) -> bool:
        return any(i.severity == Severity.ERROR for i in self.issues)


@dataclass(slots=True)  # not frozen: frozen dataclasses pay a setattr call per field, per row
class ProductRow:
    sku: str
    name: str
    brand: str | None
    category: str | None
    cost: Decimal
    price: Decimal | None
    min_price: Decimal | None
    max_price: Decimal | None
    currency: str
    attributes: dict[str, Any]
    image_refs: list[str]
    content_hash: str


def column_key(raw: str) -> str:
    """Header names match case-insensitively, with spaces or dashes for underscores ("Min Price")."""
    return raw.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def check_header(raw_columns: Sequence[str]) -> HeaderCheck:
    keys = [column_key(c) for c in raw_columns]
    if not any(keys):
        message = (
            f"the first line must be a header naming the columns; required: {', '.join(REQUIRED_COLUMNS)}"
        )
        return HeaderCheck(tuple(keys), (RowIssue(0, "file", IssueCode.MISSING_COLUMN, message),))
    issues: list[RowIssue] = []
    seen: set[str] = set()
    columns: list[str] = []
    for position, key in enumerate(keys, start=1):
        if not key:
            message = f"column {position} has no name and is ignored"
            issues.append(fields.warn(0, f"column {position}", IssueCode.UNKNOWN_COLUMN, message))
        elif key in seen:
            message = f"column '{key}' appears more than once"
            issues.append(RowIssue(0, key, IssueCode.DUPLICATE_COLUMN, message))
        elif key not in KNOWN_COLUMNS:
            message = f"unknown column '{fields.clip(key)}' is ignored"
            issues.append(fields.warn(0, key, IssueCode.UNKNOWN_COLUMN, message))
        columns.append(key if key in KNOWN_COLUMNS and key not in seen else "")
        seen.add(key)
    found = fields.clip(", ".join(fields.clip(k) for k in keys if k), 200)
    # Spreadsheets in many locales export with ';' or tabs: the whole header then lands in one column.
    separator = next((name for sep, name in _OTHER_SEPARATORS if len(keys) == 1 and sep in keys[0]), None)
    hint = f"; the file seems to be separated by {separator}: export it with commas" if separator else ""
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            message = f"required column '{required}' is missing (found: {found}){hint}"
            issues.append(RowIssue(0, required, IssueCode.MISSING_COLUMN, message))
    return HeaderCheck(tuple(columns), tuple(issues))


def unknown_keys(keys: Iterable[str]) -> list[str]:
    """For JSON lines, which have no header: keys nobody will read, reported once per file."""
    return sorted({k for k in keys if k not in KNOWN_COLUMNS})


def normalise_row(values: Mapping[str, Any], row_number: int) -> tuple[ProductRow | None, list[RowIssue]]:
    """Validate one row. Returns the product only when the row has no error (warnings are fine)."""
    issues: list[RowIssue] = []
    row = row_number
    sku = fields.sku(values.get("sku"), row, issues)
    name = fields.text(values, "name", row, issues, required=True)
    brand = fields.text(values, "brand", row, issues)
    category = fields.text(values, "category", row, issues)
    cost, price, low, high = (
        fields.money(values.get(f), f, row, issues, required=f == "cost") for f in fields.MONEY_FIELDS
    )
    currency = fields.currency(values.get("currency"), row, issues)
    attributes = fields.attributes(values.get("attributes"), row, issues)
    image_refs = fields.image_refs(values.get("image_refs"), row, issues)
    identifiers = fields.identifiers(values, row, issues)
    fields.check_prices(cost, price, low, high, row, issues)
    if issues and any(i.severity == Severity.ERROR for i in issues):
        return None, issues
    assert sku is not None and name is not None and cost is not None and attributes is not None
    if identifiers:
        previous = attributes.get("identifiers")
        merged = {**(previous if isinstance(previous, dict) else {}), **identifiers}
        attributes = {**attributes, "identifiers": merged}
    amounts = [fields.money_text(m) for m in (cost, price, low, high)]
    canonical = fields.CANONICAL_JSON.encode(
        [sku, name, brand, category, *amounts, currency, attributes, image_refs]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    product = ProductRow(
        sku, name, brand, category, cost, price, low, high, currency, attributes, image_refs, digest
    )
    return product, issues
