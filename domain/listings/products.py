"""A master product from a marketplace listing nobody has in the catalog ("build my catalog from my store").

The marketplace knows title, brand, price and identifiers, not the cost: products made here have cost 0 and their
links start excluded from price automation, so repricing never works with a margin it cannot know."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.identifiers import NORMALISERS

SKU_MAX = 64
NAME_MAX = 500


@dataclass(frozen=True)
class ProductDraft:
    sku: str
    name: str
    brand: str | None
    price: Decimal | None
    currency: str
    identifiers: dict[str, str]
    parent_sku: str | None = None
    options: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def clean_identifiers(raw: Mapping[str, str]) -> dict[str, str]:
    """Identifiers as the catalog stores them (normalised, valid only); a GTIN goes in as EAN / UPC by length."""
    out: dict[str, str] = {}
    for kind, value in raw.items():
        k = kind.lower()
        if k == "gtin":
            digits = "".join(ch for ch in value if ch.isdigit()).lstrip("0") or "0"
            k, value = ("upc", digits.zfill(12)) if len(digits) <= 12 else ("ean", digits.zfill(13))
        normalise = NORMALISERS.get(k)
        if normalise is None:
            continue
        clean, error = normalise(str(value))
        if clean and not error:
            out[k] = clean
    return out


def draft_from_listing(
    *, marketplace_sku: str, title: str | None, brand: str | None, price: Decimal | None, currency: str | None,
    identifiers: Mapping[str, str], parent_sku: str | None, options: Mapping[str, Any] | None, source: str,
) -> tuple[ProductDraft | None, str | None]:  # fmt: skip
    """(draft, None) or (None, why the listing cannot become a product as it is)."""
    sku = marketplace_sku.strip()
    if not sku or len(sku) > SKU_MAX or not sku.isprintable():
        return None, f"its SKU cannot be a catalog SKU (1-{SKU_MAX} printable characters)"
    name = " ".join((title or sku).split())[:NAME_MAX]
    ids = clean_identifiers(identifiers)
    attributes: dict[str, Any] = {"source": source, "needs_cost": True}
    if ids:
        attributes["identifiers"] = ids
    parent = parent_sku.strip()[:SKU_MAX] if parent_sku and parent_sku.strip() else None
    return (
        ProductDraft(
            sku,
            name,
            (brand or None) and brand[:200],
            price if price and price > 0 else None,
            (currency or "USD").upper()[:3],
            ids,
            parent,
            dict(options) if options else None,
            attributes,
        ),
        None,
    )
