"""The ingest process's SQL. Keyword-only functions that take the session; callers own the transaction.

Statements behave the same on SQLite and PostgreSQL (upserts through the dialect's INSERT ... ON CONFLICT).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from activities.ingest.tables import (
    IngestBatch,
    IngestImage,
    IngestLabel,
    IngestListing,
    IngestProduct,
)
from merchflow.db.models import MarketplaceAccount, Product

# An arbitrary constant: the advisory lock that makes "is this image new? then it is ours" one step on PostgreSQL
# (SQLite's writers are serialised by BEGIN IMMEDIATE already).
DEDUPE_LOCK = 72_431_006
IDENTIFIER_KEYS = ("ean", "upc", "isbn", "gtin")


def insert(session: Session, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


# ---------------------------------------------------------------- batches
def add_batch(
    session: Session, *, batch: IngestBatch, products: Sequence[IngestProduct], images: Sequence[IngestImage]
) -> None:
    session.add(batch)
    session.flush()
    session.add_all(products)
    session.flush()
    session.add_all(images)


def batch_page(session: Session, *, batch_id: str, after_position: int, limit: int) -> tuple[list[str], int]:
    rows = session.exec(
        select(IngestProduct.id, IngestProduct.position)
        .where(IngestProduct.batch_id == batch_id, IngestProduct.position > after_position)
        .order_by(col(IngestProduct.position))
        .limit(limit)
    ).all()
    return [r[0] for r in rows], (rows[-1][1] if rows else after_position)


def count_products(session: Session, batch_id: str) -> int:
    return int(
        session.exec(select(func.count()).where(IngestProduct.batch_id == batch_id)).one()  # type: ignore[call-overload]
    )


def set_batch_status(session: Session, *, batch_id: str, status: str, now: datetime) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise LookupError(f"no ingest batch {batch_id}")
    if batch.status != "drafted":
        batch.status = status
        if status == "drafted":
            batch.drafted_at = now
        session.add(batch)
    return batch


def status_counts(session: Session, batch_id: str) -> dict[str, int]:
    rows = session.exec(
        select(IngestProduct.status, func.count())
        .where(IngestProduct.batch_id == batch_id)
        .group_by(IngestProduct.status)
    ).all()
    return {s: int(n) for s, n in rows}


def list_products(session: Session, *, batch_id: str, offset: int, limit: int) -> list[IngestProduct]:
    return list(
        session.exec(
            select(IngestProduct)
            .where(IngestProduct.batch_id == batch_id)
            .order_by(col(IngestProduct.position))
            .offset(offset)
            .limit(limit)
        ).all()
    )


def list_batches(session: Session, *, offset: int, limit: int) -> tuple[int, list[IngestBatch]]:
    total = int(session.exec(select(func.count()).select_from(IngestBatch)).one())
    rows = session.exec(
        select(IngestBatch).order_by(col(IngestBatch.created_at).desc()).offset(offset).limit(limit)
    ).all()
    return total, list(rows)


# ---------------------------------------------------------------- products and images
def product(session: Session, product_id: str, *, lock: bool = False) -> IngestProduct:
    query = select(IngestProduct).where(IngestProduct.id == product_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise LookupError(f"no ingest product {product_id}")
    return row


def images(session: Session, product_id: str) -> list[IngestImage]:
    return list(
        session.exec(
            select(IngestImage)
            .where(IngestImage.product_id == product_id)
            .order_by(col(IngestImage.position))
        ).all()
    )


def image(session: Session, image_id: str) -> IngestImage | None:
    return session.get(IngestImage, image_id)


def lock_dedupe(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": DEDUPE_LOCK})


def same_bytes(session: Session, *, sha256: str, exclude_product: str) -> IngestImage | None:
    return session.exec(
        select(IngestImage).where(
            IngestImage.sha256 == sha256,
            IngestImage.status == "ok",
            IngestImage.product_id != exclude_product,
        )
    ).first()


def known_images(session: Session, *, exclude_product: str) -> Iterable[tuple[str, str, list[float]]]:
    """(id, pHash, colour layout) of every image accepted so far (the near-duplicate candidates), in chunks."""
    rows = session.exec(
        select(IngestImage.id, IngestImage.phash, IngestImage.colour_layout).where(
            IngestImage.status == "ok",
            IngestImage.product_id != exclude_product,
            col(IngestImage.phash).is_not(None),
        )
    ).yield_per(2000)
    for image_id, phash, layout in rows:
        yield image_id, phash, layout or []


def our_product_by_identifier(session: Session, identifiers: dict[str, str]) -> Product | None:
    """A product of our own catalog carrying one of these GTINs / ISBNs (attributes.identifiers.<type>)."""
    values = {v for k, v in identifiers.items() if k in (*IDENTIFIER_KEYS, "isbn10")}
    if not values:
        return None
    ids = Product.attributes["identifiers"]  # type: ignore[index]
    conditions = [ids[key].as_string().in_(sorted(values)) for key in IDENTIFIER_KEYS]
    return session.exec(select(Product).where(sa.or_(*conditions)).limit(1)).first()


def sku_taken(session: Session, *, sku: str) -> bool:
    return session.exec(select(Product.id).where(Product.sku == sku)).first() is not None


def skus_in_use(session: Session, skus: Sequence[str]) -> set[str]:
    if not skus:
        return set()
    found = set(session.exec(select(Product.sku).where(col(Product.sku).in_(skus))).all())
    found |= set(
        session.exec(
            select(IngestProduct.sku).where(
                col(IngestProduct.sku).in_(skus),
                col(IngestProduct.status).not_in(("duplicate", "refused", "rejected")),
            )
        ).all()
    )
    return found


def accounts_for(session: Session, marketplaces: Sequence[str]) -> dict[str, MarketplaceAccount]:
    """The first enabled account of each marketplace (by id): where a product of that marketplace is listed."""
    rows = session.exec(
        select(MarketplaceAccount)
        .where(col(MarketplaceAccount.marketplace).in_(marketplaces), MarketplaceAccount.enabled == True)  # noqa: E712
        .order_by(col(MarketplaceAccount.id))
    ).all()
    out: dict[str, MarketplaceAccount] = {}
    for row in rows:
        out.setdefault(row.marketplace, row)
    return out


# ---------------------------------------------------------------- publishing
def listing_outcomes(session: Session, product_id: str) -> dict[int, IngestListing]:
    rows = session.exec(select(IngestListing).where(IngestListing.product_id == product_id)).all()
    return {r.account_id: r for r in rows}


def save_listing_outcome(session: Session, *, values: dict[str, Any], now: datetime) -> None:
    stmt = insert(session, IngestListing.__table__).values(**values, attempts=1, updated_at=now)  # type: ignore[attr-defined]
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["product_id", "account_id"],
            set_={
                **{k: stmt.excluded[k] for k in values if k not in ("product_id", "account_id")},
                "attempts": IngestListing.__table__.c.attempts + 1,  # type: ignore[attr-defined]
                "updated_at": now,
            },
        )
    )


def add_labels(session: Session, rows: Sequence[IngestLabel]) -> None:
    if rows:
        session.execute(
            insert(session, IngestLabel.__table__)  # type: ignore[attr-defined]
            .values([r.model_dump(exclude={"id"}) for r in rows])
            .on_conflict_do_nothing(index_elements=["decision_id", "field"])
        )
