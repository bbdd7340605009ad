"""What a seller hands in: products, each with one or more images and optional SKU / cost / quantity / hints.

Three ways in, one shape out (`ProductSpec`): a POST with the images of one product and form fields, a zip or a
folder with a manifest CSV (one row per product), or a folder without a manifest (each image a product, each
sub-folder one product with all its images). Every problem is named per row; a batch with any error is refused
as a whole, so nothing is half-ingested.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import PurePosixPath

from pydantic import BaseModel, Field

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
MANIFEST_NAMES = ("manifest.csv", "products.csv")
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
HINT_COLUMNS = ("title", "brand", "product_type", "category", "colour", "material", "size", "notes")
MAX_HINT_LENGTH = 500
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
_IMAGE_COLUMNS = ("images", "image", "file", "files", "filename")
_SPLIT = re.compile(r"[;|]")
_MP_SPLIT = re.compile(r"[\s,;|]+")
MAX_MONEY = Decimal("1e9")  # inside the NUMERIC(14, 4) money columns


class ProductSpec(BaseModel):
    images: list[str]  # file names (relative to the folder / zip root, or the uploaded parts' names)
    sku: str | None = None
    cost: Decimal | None = None
    currency: str = "USD"
    quantity: int | None = None
    marketplaces: list[str] = Field(default_factory=list)  # empty: the configured defaults
    hints: dict[str, str] = Field(default_factory=dict)
    row: int = 0  # the manifest row (1 = first after the header), 0 when there is no manifest


class RowProblem(BaseModel):
    row: int  # 0: the manifest as a whole
    field: str
    message: str


class ManifestResult(BaseModel):
    products: list[ProductSpec]
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def is_image_name(name: str) -> bool:
    p = PurePosixPath(name)
    return p.suffix.lower() in IMAGE_SUFFIXES and not any(part.startswith(".") for part in p.parts)


def parse_sku(raw: str) -> str:
    sku = raw.strip()
    if not _SKU.match(sku):
        raise ValueError(
            "a SKU is 1-64 letters, digits, '.', '_', '-' or '/', starting with a letter or digit"
        )
    return sku


def parse_cost(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except ArithmeticError:
        raise ValueError(f"cost must be a number, not {raw.strip()[:30]!r}") from None
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        raise ValueError(f"cost must be between 0 and {MAX_MONEY}")
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError("cost has more than 4 decimal places")
    return value


def parse_quantity(raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 7:
        raise ValueError("quantity must be a whole number from 0 to 9999999")
    return int(text)


def parse_marketplaces(raw: str) -> list[str]:
    names = [m.lower() for m in _MP_SPLIT.split(raw.strip()) if m]
    unknown = [m for m in names if m not in MARKETPLACES]
    if unknown:
        raise ValueError(f"unknown marketplace {unknown[0][:30]!r} (one of: {', '.join(MARKETPLACES)})")
    return list(dict.fromkeys(names))


def parse_currency(raw: str) -> str:
    text = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError("currency is a three-letter code such as USD")
    return text


def clean_hint(raw: str) -> str:
    return " ".join(raw.split())[:MAX_HINT_LENGTH]


def check_spec(spec: ProductSpec, *, max_images: int) -> list[RowProblem]:
    """Limits every way in shares (the form fields of a POST are parsed into a spec first)."""
    problems = []
    if not spec.images:
        problems.append(RowProblem(row=spec.row, field="images", message="no image for this product"))
    elif len(spec.images) > max_images:
        problems.append(
            RowProblem(
                row=spec.row,
                field="images",
                message=f"{len(spec.images)} images; at most {max_images} per product",
            )
        )
    return problems


def parse_manifest(text: str, available: set[str], *, max_images: int, max_rows: int) -> ManifestResult:
    """`available`: the image file names the folder / zip holds (relative, '/'-separated)."""
    problems: list[RowProblem] = []
    products: list[ProductSpec] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ManifestResult(
            products=[], problems=[RowProblem(row=0, field="file", message="empty manifest")]
        )
    except csv.Error as exc:
        return ManifestResult(products=[], problems=[RowProblem(row=0, field="file", message=str(exc))])
    image_col = next((c for c in _IMAGE_COLUMNS if c in header), None)
    if image_col is None:
        problems.append(
            RowProblem(row=0, field="header", message="the manifest needs an 'images' column (file names)")
        )
        return ManifestResult(products=[], problems=problems)
    known = {image_col, "sku", "cost", "currency", "quantity", "marketplaces", *HINT_COLUMNS}
    for col in header:
        if col and col not in known and not col.startswith("hint_"):
            problems.append(RowProblem(row=0, field=col[:40], message=f"unknown column {col[:40]!r}"))
    skus: dict[str, int] = {}
    try:
        for n, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if len(products) >= max_rows:
                problems.append(RowProblem(row=n, field="file", message=f"more than {max_rows} products"))
                break
            spec, row_problems = _row(n, dict(zip(header, cells, strict=False)), image_col, available)
            row_problems += check_spec(spec, max_images=max_images)
            if spec.sku is not None:
                if spec.sku in skus:
                    row_problems.append(
                        RowProblem(
                            row=n, field="sku", message=f"SKU {spec.sku} is also on row {skus[spec.sku]}"
                        )
                    )
                skus.setdefault(spec.sku, n)
            problems += row_problems
            products.append(spec)
    except csv.Error as exc:
        problems.append(RowProblem(row=reader.line_num, field="file", message=f"not valid CSV: {exc}"))
    if not products and not problems:
        problems.append(RowProblem(row=0, field="file", message="the manifest lists no product"))
    return ManifestResult(products=products, problems=problems[:500])


def _row(
    n: int, values: dict[str, str], image_col: str, available: set[str]
) -> tuple[ProductSpec, list[RowProblem]]:
    problems: list[RowProblem] = []
    spec = ProductSpec(images=[], row=n)

    def field(name: str, parse: object) -> None:
        raw = (values.get(name) or "").strip()
        if not raw:
            return
        try:
            setattr(spec, name, parse(raw))  # type: ignore[operator]
        except ValueError as exc:
            problems.append(RowProblem(row=n, field=name, message=str(exc)))

    for ref in (r.strip().lstrip("./") for r in _SPLIT.split(values.get(image_col) or "")):
        if not ref:
            continue
        if ref not in available:
            problems.append(RowProblem(row=n, field="images", message=f"no image file {ref[:100]!r}"))
        elif not is_image_name(ref):
            problems.append(RowProblem(row=n, field="images", message=f"{ref[:100]!r} is not an image file"))
        else:
            spec.images.append(ref)
    field("sku", parse_sku)
    field("cost", parse_cost)
    field("currency", parse_currency)
    field("quantity", parse_quantity)
    field("marketplaces", parse_marketplaces)
    for col, raw in values.items():
        name = col[5:] if col.startswith("hint_") else col
        if (col in HINT_COLUMNS or col.startswith("hint_")) and raw and raw.strip() and name:
            spec.hints[name[:40]] = clean_hint(raw)
    return spec, problems


def folder_products(names: list[str], *, max_images: int, max_rows: int) -> ManifestResult:
    """No manifest: each image at the top is a product; each sub-folder one product with its images."""
    groups: dict[str, list[str]] = {}
    for name in sorted(n for n in names if is_image_name(n)):
        parts = PurePosixPath(name).parts
        groups.setdefault(parts[0] if len(parts) > 1 else name, []).append(name)
    products = [ProductSpec(images=imgs, row=0) for imgs in groups.values()]
    problems = [p for spec in products for p in check_spec(spec, max_images=max_images)]
    if not products:
        problems.append(RowProblem(row=0, field="file", message="no image found (JPEG, PNG, WebP or HEIC)"))
    if len(products) > max_rows:
        problems.append(
            RowProblem(row=0, field="file", message=f"{len(products)} products; at most {max_rows}")
        )
    return ManifestResult(products=products, problems=problems)
