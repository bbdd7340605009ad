"""Catalog files sellers already have: column presets for Shopify's products CSV, WooCommerce's product CSV and
Amazon inventory files / flat files, plus an explicit column mapping. Each turns one raw row (cells by the file's own
column names) into our fields (sku, name, cost, ..., quantity, parent_sku, options), with warnings for what it had
to assume. Pure; `records.py` reads the rows, `rows.normalise_row` validates what comes out of here.

Shopify and WooCommerce write a product's variants on the rows after it (Shopify: same Handle, title on the first
row only; WooCommerce: `variation` rows after their `variable` parent): a batch never ends inside such a group, so
every group's first row is in the batch that needs it (`Preset.continues`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from domain.catalog.issues import IssueCode, RowIssue, Severity
from domain.catalog.rows import column_key

PresetName = Literal["shopify", "woocommerce", "amazon"]
StockMode = Literal["set", "ignore"]
# fields a mapping may name (beyond the columns of our own format)
MAPPABLE = (
    "sku", "name", "brand", "category", "cost", "price", "min_price", "max_price", "currency", "attributes",
    "image_refs", "upc", "ean", "isbn", "asin", "mpn", "gtin", "quantity", "parent_sku", "options",
)  # fmt: skip
_GTIN_BY_LENGTH = {12: "upc", 13: "ean", 8: "ean", 14: "gtin"}


class ImportOptions(BaseModel):
    """How to read a catalog file: a preset for a marketplace's export, an explicit mapping (our field -> the
    file's column name, on top of the preset), and what a `quantity` column does to existing SKUs' stock."""

    preset: PresetName | None = None
    mapping: dict[str, str] = Field(default_factory=dict)
    stock: StockMode = "ignore"  # set: on-hand becomes the file's quantity; ignore: only new SKUs get theirs

    @field_validator("mapping")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(MAPPABLE))
        if unknown:
            raise ValueError(
                f"unknown field(s) in the mapping: {', '.join(unknown)}; known: {', '.join(MAPPABLE)}"
            )
        return {k: str(c) for k, c in v.items()}

    @property
    def custom_columns(self) -> bool:
        return self.preset is not None or bool(self.mapping)

    def identity(self) -> str:
        """Part of an import's identity: the same bytes read with other options are another import ("" = default,
        so imports of our own format keep the ids they always had)."""
        if not self.custom_columns and self.stock == "ignore":
            return ""
        return self.model_dump_json()


def warn(row: int, field_name: str, message: str) -> RowIssue:
    return RowIssue(row, field_name, IssueCode.INCONSISTENT, message, Severity.WARNING)


def _cell(values: Mapping[str, Any], *names: str) -> str:
    for name in names:
        v = values.get(name)
        if v is not None and str(v).strip():
            return str(v).strip()
    return ""


def gtin_field(code: str) -> str:
    digits = code.replace("-", "").replace(" ", "")
    if len(digits) == 13 and digits[:3] in ("978", "979"):
        return "isbn"
    return _GTIN_BY_LENGTH.get(len(digits), "gtin")


@dataclass
class Group:
    """What the first row of a product group gave its variant rows."""

    key: str = ""
    values: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # WooCommerce: product ID -> SKU


class Preset:
    name: str = ""
    sku_columns: tuple[str, ...] = ()
    name_columns: tuple[str, ...] = ()
    cost_columns: tuple[str, ...] = ()

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self.mapping = dict(mapping or {})

    def header_row(self, rows: Sequence[Sequence[str]]) -> int:
        """Index of the row naming the columns (Amazon flat files start with template rows)."""
        return 0

    def header_issues(self, columns: Sequence[str]) -> list[RowIssue]:
        have = set(columns)
        out = []
        for what, names in (("sku", self.sku_columns), ("name", self.name_columns)):
            mapped = self.mapping.get(what)
            wanted = (mapped,) if mapped else names
            if what == "name" and not names and not mapped:
                continue
            if not have & set(wanted):
                message = (
                    f"the {self.name or 'mapped'} file has no {what} column (looked for: {', '.join(wanted)})"
                )
                out.append(RowIssue(0, what, IssueCode.MISSING_COLUMN, message))
        return out

    def sku_of(self, values: Mapping[str, Any]) -> str:
        return _cell(values, *((self.mapping["sku"],) if "sku" in self.mapping else self.sku_columns))

    def group_key(self, values: Mapping[str, Any]) -> str:
        """The product group a row starts or belongs to ("" where rows stand alone)."""
        return ""

    def continues(self, values: Mapping[str, Any], last_key: str) -> bool:
        """This row belongs to the product group of the row before it (whose group_key is `last_key`)."""
        return False

    def row(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        """Our fields for one row, or None for a row that is no product (an image-only row)."""
        out, issues = self.fields(values, group, row)
        if out is None:
            return None, issues
        for target, column in self.mapping.items():  # an explicit mapping wins over the preset's reading
            out[target] = values.get(column)
        if not _cell(out, "cost") and self.cost_columns is not None:
            out["cost"] = "0"
            out.setdefault("attributes", {})["needs_cost"] = True
            issues.append(
                warn(row, "cost", "no cost in the file: 0 is used until you set it (repricing needs it)")
            )
        if self.name and not _cell(out, "name") and _cell(out, "sku"):
            out["name"] = out["sku"]
            issues.append(warn(row, "name", "no product name in the file: the SKU is used"))
        return out, issues

    def fields(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        return {}, []


class Mapped(Preset):
    """Our own columns by their names, plus an explicit mapping for the rest (no preset)."""

    sku_columns = ("sku",)
    name_columns = ("name",)
    cost_columns = None  # type: ignore[assignment]  # our format requires cost: no default

    def fields(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        return {column_key(k): v for k, v in values.items()}, []


def delimiter_of(first_line: str) -> str:
    """Amazon's files are tab-separated; spreadsheets' exports comma-separated."""
    return "\t" if first_line.count("\t") > first_line.count(",") else ","
