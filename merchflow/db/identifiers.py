"""Keeping `product_identifier` in step with products' identifiers: every writer of products calls this in the same
transaction, so listing sync can look identifiers up by index (see merchflow.db.models.ProductIdentifier)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from domain.identifiers import match_keys
from merchflow.db.models import ProductIdentifier

_PID = ProductIdentifier.__table__  # type: ignore[attr-defined]
_CHUNK = 2000


def replace_identifiers(conn: sa.Connection, by_sku: Mapping[str, Mapping[str, str]]) -> None:
    """Each product's matchable identifiers become exactly those of `by_sku[sku]` (raw upc / ean / ... values)."""
    skus = list(by_sku)
    for i in range(0, len(skus), _CHUNK):
        conn.execute(sa.delete(_PID).where(_PID.c.sku.in_(skus[i : i + _CHUNK])))
    rows = [
        {"sku": sku, "kind": kind, "value": value}
        for sku, ids in by_sku.items()
        for kind, value in sorted(match_keys(dict(ids)))
    ]
    for i in range(0, len(rows), 5000):
        conn.execute(sa.insert(_PID), rows[i : i + 5000])


def identifiers_of(attributes: object) -> dict[str, str]:
    """The identifiers stored in a product's attributes (`{"identifiers": {"upc": ...}}`)."""
    ids = attributes.get("identifiers") if isinstance(attributes, dict) else None
    return (
        {str(k): str(v) for k, v in ids.items() if isinstance(v, str | int)} if isinstance(ids, dict) else {}
    )
