"""The exports sellers already have, read into our fields: Shopify's products CSV, WooCommerce's product CSV, Amazon's
inventory files and flat files (see presets.py for what a preset does and why batches keep product groups whole)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.catalog.issues import IssueCode, RowIssue
from domain.catalog.presets import Group, ImportOptions, Mapped, Preset, _cell, gtin_field
from domain.catalog.rows import HeaderCheck, check_header, column_key


class Shopify(Preset):
    """Shopify admin > Products > Export (CSV for Excel / other spreadsheets)."""

    name = "shopify"
    sku_columns = ("Variant SKU",)
    name_columns = ("Title",)
    cost_columns = ("Cost per item",)

    def group_key(self, values: Mapping[str, Any]) -> str:
        return _cell(values, "Handle")

    def continues(self, values: Mapping[str, Any], last_key: str) -> bool:
        return bool(last_key) and _cell(values, "Handle") == last_key and not _cell(values, "Title")

    def fields(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        handle = _cell(values, "Handle")
        if _cell(values, "Title") or handle != group.key:
            group.key, group.values = handle, {k: str(v) for k, v in values.items() if v}
        first = group.values
        sku = _cell(values, "Variant SKU")
        if not sku:
            return None, []  # an image row, or a variant without SKU: nothing to sell under a SKU
        options = {}
        for n in (1, 2, 3):
            name, value = _cell(first, f"Option{n} Name"), _cell(values, f"Option{n} Value")
            if name and value and not (name == "Title" and value == "Default Title"):
                options[name] = value
        title = _cell(first, "Title")
        out: dict[str, Any] = {
            "sku": sku,
            "name": f"{title} - {' / '.join(options.values())}" if options else title,
            "brand": _cell(first, "Vendor"),
            "category": _cell(first, "Product Category", "Type"),
            "price": _cell(values, "Variant Price"),
            "cost": _cell(values, "Cost per item"),
            "quantity": _cell(values, "Variant Inventory Qty"),
            "image_refs": _cell(values, "Variant Image") or _cell(first, "Image Src"),
        }
        code = _cell(values, "Variant Barcode")
        if code:
            out[gtin_field(code)] = code
        if options:
            out["parent_sku"], out["options"] = handle, options
        return out, []


class WooCommerce(Preset):
    """WooCommerce > Products > Export (the built-in product CSV exporter)."""

    name = "woocommerce"
    sku_columns = ("SKU",)
    name_columns = ("Name",)
    cost_columns = ("Meta: _wc_cog_cost",)  # the Cost of Goods extension's meta, when exported

    def group_key(self, values: Mapping[str, Any]) -> str:
        return "variations" if _cell(values, "Type") in ("variable", "variation") else ""

    def continues(self, values: Mapping[str, Any], last_key: str) -> bool:
        return bool(last_key) and _cell(values, "Type") == "variation"

    def fields(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        kind = _cell(values, "Type")
        sku = _cell(values, "SKU")
        if _cell(values, "ID") and sku:
            group.ids[_cell(values, "ID")] = sku
        if kind != "variation":
            group.key, group.values = (
                (sku or _cell(values, "ID")),
                {k: str(v) for k, v in values.items() if v},
            )
        if kind in ("grouped", "external") or not sku:
            return None, []  # grouped products sell their children; external ones are not ours to stock
        parent_ref = _cell(values, "Parent")
        parent = group.ids.get(parent_ref[3:], "") if parent_ref.startswith("id:") else parent_ref
        options = {}
        for n in range(1, 10):
            name, value = _cell(values, f"Attribute {n} name"), _cell(values, f"Attribute {n} value(s)")
            if name and value and kind == "variation":
                options[name] = value
        first = group.values if kind == "variation" else values
        out: dict[str, Any] = {
            "sku": sku,
            "name": _cell(values, "Name") or _cell(first, "Name"),
            "brand": _cell(values, "Brands") or _cell(first, "Brands"),
            "category": (_cell(values, "Categories") or _cell(first, "Categories")).split(",")[0].strip(),
            "price": _cell(values, "Regular price"),
            "cost": _cell(values, "Meta: _wc_cog_cost"),
            "quantity": _cell(values, "Stock"),
            "image_refs": "|".join(i.strip() for i in _cell(values, "Images").split(",") if i.strip()),
        }
        code = _cell(values, "GTIN, UPC, EAN, or ISBN")
        if code:
            out[gtin_field(code)] = code
        if parent:
            out["parent_sku"] = parent
        if options:
            out["options"] = options
        return out, []


_AMAZON_ID_TYPES = {"1": "asin", "2": "isbn", "3": "upc", "4": "ean", "asin": "asin", "isbn": "isbn", "upc": "upc",
                    "ean": "ean", "gtin": "gtin", "jan": "ean"}  # fmt: skip
_AMAZON_OPTIONS = {
    "color_name": "Color",
    "size_name": "Size",
    "style_name": "Style",
    "material_type": "Material",
}


class Amazon(Preset):
    """Amazon inventory files (Inventory Loader, All Listings report, tab- or comma-separated) and category flat
    files (template rows above the attribute names)."""

    name = "amazon"
    sku_columns = ("sku", "seller-sku", "seller_sku", "item_sku")
    name_columns = ()  # the Inventory Loader has none: the SKU stands in (with a warning)
    cost_columns = ()

    def header_row(self, rows: Sequence[Sequence[str]]) -> int:
        for i, cells in enumerate(rows):
            if set(c.strip() for c in cells) & set(self.sku_columns):
                return i
        return 0

    def fields(
        self, values: Mapping[str, Any], group: Group, row: int
    ) -> tuple[dict[str, Any] | None, list[RowIssue]]:
        sku = self.sku_of(values)
        child = _cell(values, "parent_child").lower() == "child"
        out: dict[str, Any] = {
            "sku": sku,
            "name": _cell(values, "item-name", "item_name", "product-name", "title"),
            "brand": _cell(values, "brand_name", "brand"),
            "category": _cell(values, "item_type", "product_type", "feed_product_type"),
            "price": _cell(values, "standard_price", "price", "your-price"),
            "min_price": _cell(values, "minimum-seller-allowed-price"),
            "max_price": _cell(values, "maximum-seller-allowed-price"),
            "quantity": _cell(values, "quantity"),
            "image_refs": _cell(values, "main_image_url", "image-url"),
        }
        issues: list[RowIssue] = []
        for id_col, type_col in (
            ("product-id", "product-id-type"),
            ("external_product_id", "external_product_id_type"),
        ):
            code, kind = _cell(values, id_col), _cell(values, type_col).lower()
            if code:
                target = _AMAZON_ID_TYPES.get(kind) or gtin_field(code)
                out[target] = code
        if _cell(values, "asin1"):
            out["asin"] = _cell(values, "asin1")
        if child:
            out["parent_sku"] = _cell(values, "parent_sku")
            options = {
                label: _cell(values, col) for col, label in _AMAZON_OPTIONS.items() if _cell(values, col)
            }
            if options:
                out["options"] = options
        return out, issues


def preset_for(options: ImportOptions) -> Preset:
    cls = {"shopify": Shopify, "woocommerce": WooCommerce, "amazon": Amazon}.get(options.preset or "", Mapped)
    return cls(options.mapping)


def header_check(raw: Sequence[str], options: ImportOptions | None) -> HeaderCheck:
    """Our own format: the usual checks. A preset or a mapping: every column is kept under its own name (the
    preset reads them), and the columns it needs must be there."""
    if options is None or not options.custom_columns:
        return check_header(raw)
    names: list[str] = []
    for cell in raw:
        name = cell.strip().lstrip("\ufeff").strip()
        while name and name in names:
            name += "'"  # a repeated column keeps its place under another name
        names.append(name)
    preset = preset_for(options)
    present = list(names) + [column_key(n) for n in names] if isinstance(preset, Mapped) else names
    issues = preset.header_issues(present)
    missing = sorted(set(options.mapping.values()) - set(names))
    if missing:
        issues.append(
            RowIssue(
                0,
                "mapping",
                IssueCode.MISSING_COLUMN,
                f"the mapping names column(s) the file lacks: {', '.join(missing)}",
            )
        )
    return HeaderCheck(tuple(names), tuple(issues))
