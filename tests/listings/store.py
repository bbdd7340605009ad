"""A marketplace store and a master catalog that overlap in known ways, for listing-sync tests and the benchmark:
listings matched by SKU, by GTIN (another SKU), conflicting (same SKU, another GTIN), unmatched; master products
with no listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from merchflow.db.engine import session_scope
from merchflow.db.identifiers import replace_identifiers
from merchflow.db.models import Product
from merchflow.db.types import utcnow


def ean13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Mix:
    """Counts of each kind of listing; products: by_sku + by_gtin + conflicts + extra_products."""

    by_sku: int
    by_gtin: int
    conflicts: int
    unmatched: int
    extra_products: int

    @property
    def listings(self) -> int:
        return self.by_sku + self.by_gtin + self.conflicts + self.unmatched

    @property
    def products(self) -> int:
        return self.by_sku + self.by_gtin + self.conflicts + self.extra_products

    def expected_report(self) -> dict[str, int]:
        linked = self.by_sku + self.by_gtin
        return {
            "listings": self.listings, "linked": linked, "created": linked, "by_sku": self.by_sku,
            "by_identifier": self.by_gtin, "conflicts": self.conflicts, "listings_without_product": self.unmatched,
            "ignored": 0, "gone": 0, "products_without_listing": self.conflicts + self.extra_products,
        }  # fmt: skip


def catalog(mix: Mix) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Master products (rows for the product table) and their identifiers."""
    now = utcnow()
    rows, ids = [], {}
    for i in range(mix.products):
        sku = f"P-{i:06d}"
        rows.append({"sku": sku, "name": f"Product {i}", "cost": "4.00", "price": "9.99", "currency": "USD",
                     "attributes": {}, "image_refs": [], "added_at": now, "updated_at": now, "status": "active"})  # fmt: skip
        if i >= mix.by_sku:  # GTIN-matched, conflicting and extra products carry a GTIN
            ids[sku] = {"ean": ean13(f"2{i:011d}")}
    for r in rows:
        if r["sku"] in ids:
            r["attributes"] = {"identifiers": ids[r["sku"]]}
    return rows, ids


def listings(mix: Mix) -> list[dict[str, Any]]:
    """Sandbox seed payloads."""
    out = []
    for i in range(mix.listings):
        if i < mix.by_sku:
            sku, ident = f"P-{i:06d}", {}
        elif i < mix.by_sku + mix.by_gtin:
            sku, ident = f"MK-{i:06d}", {"ean": ean13(f"2{i:011d}")}
        elif i < mix.by_sku + mix.by_gtin + mix.conflicts:
            sku, ident = f"P-{i:06d}", {"ean": ean13(f"3{i:011d}")}
        else:
            sku, ident = f"U-{i:06d}", {}
        out.append(
            {"sku": sku, "title": f"Listed {i}", "price": "12.50", "quantity": i % 7, "identifiers": ident}
        )
    return out


def seed_catalog(engine: sa.Engine, mix: Mix) -> None:
    rows, ids = catalog(mix)
    with session_scope(engine) as s:
        conn = s.connection()
        for i in range(0, len(rows), 5000):
            conn.execute(sa.insert(Product.__table__), rows[i : i + 5000])  # type: ignore[attr-defined]
        replace_identifiers(conn, ids)
