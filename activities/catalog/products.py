"""The master catalog for the products API: filtered pages by cursor, one product with its links, changes, archiving,
and a constant-memory export (server-side cursor, rows streamed as they come)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from merchflow.db.identifiers import identifiers_of, replace_identifiers
from merchflow.db.models import AuditLog, MarketplaceAccount, MarketplaceListing, Product, StockLevel

P = Product.__table__  # type: ignore[attr-defined]
S = StockLevel.__table__  # type: ignore[attr-defined]
L = MarketplaceListing.__table__  # type: ignore[attr-defined]
A = MarketplaceAccount.__table__  # type: ignore[attr-defined]
AUDIT = AuditLog.__table__  # type: ignore[attr-defined]
EXPORT_CHUNK = 1000


class ProductError(ValueError):
    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None  # text in SKU, name or brand
    category: str | None = None
    brand: str | None = None
    marketplace: str | None = None  # linked on an account of this marketplace
    linked: bool | None = None  # any live link at all (True) / none (False)
    stock_below: int | None = None  # available (on hand - reserved) below this; no stock record counts as 0
    status: str = "active"
    parent_sku: str | None = None


_AVAILABLE = sa.func.coalesce(S.c.on_hand, 0) - sa.func.coalesce(S.c.reserved, 0)


def _live_link(**where: Any) -> Any:
    q = sa.exists().where(L.c.sku == P.c.sku, L.c.status != "ended")
    if "marketplace" in where:
        q = sa.exists().where(L.c.sku == P.c.sku, L.c.status != "ended", L.c.account_id == A.c.id,
                              A.c.marketplace == where["marketplace"], A.c.status != "removed")  # fmt: skip
    return q


def select_products(f: ProductFilter) -> sa.Select[Any]:
    q = sa.select(P, S.c.on_hand, S.c.reserved).select_from(P.outerjoin(S, S.c.sku == P.c.sku))
    if f.status != "any":
        q = q.where(P.c.status == f.status)
    if f.q:
        like = f"%{f.q.lower()}%"
        q = q.where(
            sa.or_(
                sa.func.lower(P.c.sku).like(like),
                sa.func.lower(P.c.name).like(like),
                sa.func.lower(P.c.brand).like(like),
            )
        )
    if f.category:
        q = q.where(P.c.category == f.category)
    if f.brand:
        q = q.where(P.c.brand == f.brand)
    if f.parent_sku:
        q = q.where(P.c.parent_sku == f.parent_sku)
    if f.marketplace:
        q = q.where(_live_link(marketplace=f.marketplace))
    if f.linked is not None:
        q = q.where(_live_link() if f.linked else ~_live_link())
    if f.stock_below is not None:
        q = q.where(_AVAILABLE < f.stock_below)
    return q


def page(
    conn: sa.Connection, f: ProductFilter, *, after: str | None, limit: int
) -> tuple[list[sa.RowMapping], dict[str, list[dict[str, Any]]]]:
    """One page in SKU order after `after`, and each product's live links (one query for the page)."""
    q = select_products(f).order_by(P.c.sku).limit(limit + 1)
    if after:
        q = q.where(P.c.sku > after)
    rows = list(conn.execute(q).mappings())
    return rows, links(conn, [r["sku"] for r in rows[:limit]])


def links(conn: sa.Connection, skus: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not skus:
        return out
    q = (
        sa.select(
            L.c.sku,
            L.c.account_id,
            A.c.marketplace,
            A.c.name,
            L.c.marketplace_sku,
            L.c.status,
            L.c.quantity,
            L.c.price,
            L.c.link_method,
            L.c.safety_buffer,
            L.c.stock_automation,
            L.c.price_automation,
        )
        .select_from(L.join(A, A.c.id == L.c.account_id))
        .where(L.c.sku.in_(skus), A.c.status != "removed")
        .order_by(L.c.sku, L.c.account_id)
    )
    for r in conn.execute(q).mappings():
        out.setdefault(r["sku"], []).append({
            "account_id": r["account_id"], "marketplace": r["marketplace"], "account": r["name"],
            "marketplace_sku": r["marketplace_sku"] or r["sku"], "status": r["status"], "quantity": r["quantity"],
            "price": None if r["price"] is None else format(r["price"], "f"), "link_method": r["link_method"],
            "safety_buffer": r["safety_buffer"], "stock_automation": r["stock_automation"],
            "price_automation": r["price_automation"],
        })  # fmt: skip
    return out


def one(conn: sa.Connection, sku: str) -> sa.RowMapping:
    row = conn.execute(select_products(ProductFilter(status="any")).where(P.c.sku == sku)).mappings().first()
    if row is None:
        raise ProductError(f"no product {sku}", status=404)
    return row


def update(
    conn: sa.Connection,
    *,
    sku: str,
    changes: Mapping[str, Any],
    identifiers: dict[str, str] | None,
    actor: str,
    now: datetime,
) -> None:
    """Validated changes (see api.catalog.products); identifiers replace the stored ones and their index."""
    row = one(conn, sku)
    if row["status"] != "active":
        raise ProductError(f"product {sku} is archived: it cannot be changed", status=409)
    values = dict(changes)
    if identifiers is not None:
        attrs = dict(row["attributes"] or {})
        if identifiers:
            attrs["identifiers"] = identifiers
        else:
            attrs.pop("identifiers", None)
        values["attributes"] = attrs
    if "attributes" in changes and identifiers is None:  # new attributes keep the product's identifiers
        kept = identifiers_of(row["attributes"])
        values["attributes"] = {**changes["attributes"], **({"identifiers": kept} if kept else {})}
    # the next import of this SKU is applied, whatever it holds (the import skips rows whose hash it has seen)
    values.update(updated_at=now, content_hash=None)
    conn.execute(sa.update(P).where(P.c.sku == sku).values(**values))
    if identifiers is not None:
        replace_identifiers(conn, {sku: identifiers})
    conn.execute(sa.insert(AUDIT).values(at=now, actor=actor, action="product_changed", entity_type="product", entity_id=sku,
                                         details={"fields": sorted(values.keys() - {"updated_at", "content_hash"})}))  # fmt: skip


def archive(conn: sa.Connection, *, sku: str, actor: str, now: datetime) -> tuple[bool, int]:
    """(archived now, live links). Archiving twice is a no-op that answers the same."""
    row = one(conn, sku)
    live = len([x for x in links(conn, [sku]).get(sku, []) if x["status"] != "ended"])
    if row["status"] == "archived":
        return False, live
    conn.execute(
        sa.update(P)
        .where(P.c.sku == sku, P.c.status == "active")
        .values(status="archived", archived_at=now, updated_at=now)
    )
    conn.execute(sa.insert(AUDIT).values(at=now, actor=actor, action="product_archived", entity_type="product", entity_id=sku,
                                         details={"live_listings": live}))  # fmt: skip
    return True, live


def export_rows(engine: sa.Engine, f: ProductFilter) -> Iterator[sa.RowMapping]:
    """Every matching product in SKU order, fetched in chunks by keyset: memory stays flat for any catalog size, and
    no transaction is held open between chunks (SQLite's writers are never blocked by a slow download)."""
    after = ""
    while True:
        with engine.execution_options(readonly=True).connect() as conn:
            rows = list(
                conn.execute(
                    select_products(f).where(P.c.sku > after).order_by(P.c.sku).limit(EXPORT_CHUNK)
                ).mappings()
            )
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        after = rows[-1]["sku"]
