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

from domain.catalog import fields, variants
from domain.catalog.fields import normalise_sku
from domain.catalog.issues import IssueCode, RowIssue, Severity
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
    "gtin",  # any GTIN-8/12/13/14: stored as the UPC or EAN it is
    "quantity",  # on-hand stock, set through a ledger receipt (see activities.catalog.stock)
    "parent_sku",  # a variant's parent product
    "options",  # a variant's options: JSON object, or "Size=M; Color=Red"
)
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
COLUMN_ALIASES = {"stock": "quantity"}  # names sellers use for our columns
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
    quantity: int | None = None  # stock in the file: not product content, not in the hash
    parent_sku: str | None = None
    options: dict[str, Any] | None = None


def column_key(raw: str) -> str:
    """Header names match case-insensitively, with spaces or dashes for underscores ("Min Price")."""
    key = raw.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")
    return COLUMN_ALIASES.get(key, key)


def check_header(raw_columns: Sequence[str]) -> HeaderCheck:
    keys = [column_key(c) for c in raw_columns]
    if not any(keys):
        message = (
            f"the first line must be a header naming the columns; required: {', '.join(REQUIRED_COLUMNS)}"
        )
        return HeaderCheck(tuple(keys), (RowIssue(0, "file", IssueCode.MISSING_COLUMN, message),))
    seen: set[str] = set()
    columns: list[str] = []
    repeats: dict[str, int] = {}  # duplicate column -> how many extra times it appears
    unnamed: list[int] = []
    unknown: list[str] = []
    for position, key in enumerate(keys, start=1):
        if not key:
            unnamed.append(position)
        elif key in seen:
            repeats[key] = repeats.get(key, 0) + 1
        elif key not in KNOWN_COLUMNS:
            unknown.append(key)
        columns.append(key if key in KNOWN_COLUMNS and key not in seen else "")
        seen.add(key)
    # One issue per duplicated name and at most MAX_HEADER_ISSUES per kind: a header of 100,000 repeated columns is
    # one problem, not 100,000 (it made a 3.7 MB error answer).
    issues: list[RowIssue] = []
    for key, extra in list(repeats.items())[:MAX_HEADER_ISSUES]:
        times = "twice" if extra == 1 else f"{extra + 1} times"
        name = fields.clip(key)
        issues.append(RowIssue(0, name, IssueCode.DUPLICATE_COLUMN, f"column '{name}' appears {times}"))
    _more(issues, len(repeats), "more columns appear more than once", fatal=True)
    for position in unnamed[:MAX_HEADER_ISSUES]:
        message = f"column {position} has no name and is ignored"
        issues.append(fields.warn(0, f"column {position}", IssueCode.UNKNOWN_COLUMN, message))
    _more(issues, len(unnamed), "more columns have no name and are ignored", fatal=False)
    for key in unknown[:MAX_HEADER_ISSUES]:
        name = fields.clip(key)
        issues.append(fields.warn(0, name, IssueCode.UNKNOWN_COLUMN, f"unknown column '{name}' is ignored"))
    _more(issues, len(unknown), "more unknown columns are ignored", fatal=False)
    found = fields.clip(", ".join(fields.clip(k) for k in keys[:50] if k), 200)
    # Spreadsheets in many locales export with ';' or tabs: the whole header then lands in one column.
    separator = next((name for sep, name in _OTHER_SEPARATORS if len(keys) == 1 and sep in keys[0]), None)
    hint = f"; the file seems to be separated by {separator}: export it with commas" if separator else ""
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            message = f"required column '{required}' is missing (found: {found}){hint}"
            issues.append(RowIssue(0, required, IssueCode.MISSING_COLUMN, message))
    return HeaderCheck(tuple(columns), tuple(issues))


MAX_HEADER_ISSUES = 20


def _more(issues: list[RowIssue], count: int, what: str, *, fatal: bool) -> None:
    """One issue counting the items of a kind past the first MAX_HEADER_ISSUES."""
    if count <= MAX_HEADER_ISSUES:
        return
    message = f"... and {count - MAX_HEADER_ISSUES} {what}"
    if fatal:
        issues.append(RowIssue(0, "file", IssueCode.DUPLICATE_COLUMN, message))
    else:
        issues.append(fields.warn(0, "file", IssueCode.UNKNOWN_COLUMN, message))


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
    quantity = variants.quantity(values.get("quantity"), row, issues)
    parent_sku = variants.parent_sku(values.get("parent_sku"), sku, row, issues)
    options = variants.options(values.get("options"), row, issues)
    fields.check_prices(cost, price, low, high, row, issues)
    if issues and any(i.severity == Severity.ERROR for i in issues):
        return None, issues
    assert sku is not None and name is not None and cost is not None and attributes is not None
    if identifiers:
        previous = attributes.get("identifiers")
        merged = {**(previous if isinstance(previous, dict) else {}), **identifiers}
        attributes = {**attributes, "identifiers": merged}
    amounts = [fields.money_text(m) for m in (cost, price, low, high)]
    content: list[Any] = [sku, name, brand, category, *amounts, currency, attributes, image_refs]
    if parent_sku or options:  # only then: products imported before variants existed keep their hash
        content += [parent_sku, options]
    digest = hashlib.sha256(fields.CANONICAL_JSON.encode(content).encode()).hexdigest()
    product = ProductRow(
        sku, name, brand, category, cost, price, low, high, currency, attributes, image_refs, digest,
        quantity, parent_sku, options,
    )  # fmt: skip
    return product, issues
