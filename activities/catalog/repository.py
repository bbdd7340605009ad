"""Database side of catalog imports: set-based statements that behave the same on SQLite and PostgreSQL.

Every function takes the connection explicitly; callers own the transaction, so one batch's upserts, issues
and batch record commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from activities.catalog.tables import CatalogImport, CatalogImportBatch, CatalogImportIssue
from domain.catalog.rows import ProductRow, RowIssue
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from workflows.catalog.contract import BatchResult, ImportCounts

PRODUCT = Product.__table__  # type: ignore[attr-defined]
IMPORT = CatalogImport.__table__  # type: ignore[attr-defined]
BATCH = CatalogImportBatch.__table__  # type: ignore[attr-defined]
ISSUE = CatalogImportIssue.__table__  # type: ignore[attr-defined]
_UPDATED_ON_CONFLICT = (
    "name",
    "brand",
    "category",
    "cost",
    "price",
    "min_price",
    "max_price",
    "currency",
    "attributes",
    "image_refs",
    "content_hash",
    "updated_at",
    "parent_sku",
    "options",
)
_IN_CHUNK = 2000  # well under SQLite's bound-parameter limit
_COUNT_FIELDS = ("valid_rows", "invalid_rows", "inserted", "updated", "unchanged", "warnings", "stock_set")


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def ensure_import(conn: sa.Connection, *, values: dict[str, Any]) -> None:
    """Create the import row if the API did not (workflow started by another client), then mark it running."""
    conn.execute(_insert(conn, IMPORT).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    conn.execute(
        sa.update(IMPORT)
        .where(IMPORT.c.id == values["id"], IMPORT.c.status == "pending")
        .values(status="running", workflow_id=values["workflow_id"])
    )


def insert_issues(conn: sa.Connection, *, import_id: str, issues: Iterable[RowIssue]) -> None:
    rows = [
        {
            "import_id": import_id,
            "row_number": i.row_number,
            "field": i.field[:100],
            "code": i.code,
            "message": i.message[:500],
            "severity": str(i.severity),
        }
        for i in issues
    ]
    if rows:
        # the unique key (import, row, field, message) makes a re-run of the same step a no-op
        conn.execute(_insert(conn, ISSUE).on_conflict_do_nothing(), rows)


def duplicate_rows(conn: sa.Connection, *, import_id: str, first: int, last: int) -> set[int]:
    q = sa.select(ISSUE.c.row_number).where(
        ISSUE.c.import_id == import_id,
        ISSUE.c.row_number.between(first, last),
        ISSUE.c.code == "duplicate_sku",
    )
    return set(conn.execute(q).scalars())


def stored_batch(conn: sa.Connection, *, import_id: str, first_row: int) -> BatchResult | None:
    row = (
        conn.execute(sa.select(BATCH).where(BATCH.c.import_id == import_id, BATCH.c.first_row == first_row))
        .mappings()
        .first()
    )
    if row is None:
        return None
    counts = ImportCounts(processed_rows=row["rows"], **{f: row[f] for f in _COUNT_FIELDS})
    return BatchResult(
        first_row=row["first_row"],
        next_row=row["next_row"],
        next_offset=row["next_offset"],
        done=row["done"],
        counts=counts,
        replayed=True,
    )


def record_batch(conn: sa.Connection, *, import_id: str, result: BatchResult, now: datetime) -> None:
    """Plain INSERT on purpose: a concurrent attempt of the same batch fails here and rolls back."""
    c = result.counts
    conn.execute(
        sa.insert(BATCH).values(
            import_id=import_id,
            first_row=result.first_row,
            next_row=result.next_row,
            next_offset=result.next_offset,
            done=result.done,
            rows=c.processed_rows,
            created_at=now,
            **{f: getattr(c, f) for f in _COUNT_FIELDS},
        )
    )


def existing_hashes(conn: sa.Connection, skus: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for i in range(0, len(skus), _IN_CHUNK):
        q = sa.select(PRODUCT.c.sku, PRODUCT.c.content_hash).where(PRODUCT.c.sku.in_(skus[i : i + _IN_CHUNK]))
        found.update((sku, digest) for sku, digest in conn.execute(q))
    return found


def upsert_products(conn: sa.Connection, *, products: Sequence[ProductRow], now: datetime) -> None:
    """INSERT … ON CONFLICT (sku) DO UPDATE as one executemany; `added_at` survives updates."""
    if not products:
        return
    stmt = _insert(conn, PRODUCT)
    stmt = stmt.on_conflict_do_update(
        index_elements=[PRODUCT.c.sku], set_={c: stmt.excluded[c] for c in _UPDATED_ON_CONFLICT}
    )
    rows = [
        {
            "sku": p.sku,
            "name": p.name,
            "brand": p.brand,
            "category": p.category,
            "cost": p.cost,
            "price": p.price,
            "min_price": p.min_price,
            "max_price": p.max_price,
            "currency": p.currency,
            "attributes": p.attributes,
            "image_refs": p.image_refs,
            "content_hash": p.content_hash,
            "parent_sku": p.parent_sku,
            "options": p.options,
            "added_at": now,
            "updated_at": now,
        }
        for p in products
    ]
    conn.execute(stmt, rows)


def refresh_totals(conn: sa.Connection, *, import_id: str) -> ImportCounts:
    """Import counters are always recomputed from committed batches, so they cannot drift under retries."""
    cols = [sa.func.coalesce(sa.func.sum(BATCH.c[f]), 0) for f in ("rows", *_COUNT_FIELDS)]
    sums = conn.execute(sa.select(*cols).where(BATCH.c.import_id == import_id)).one()
    counts = ImportCounts(
        processed_rows=int(sums[0]), **{f: int(v) for f, v in zip(_COUNT_FIELDS, sums[1:], strict=True)}
    )
    values = counts.model_dump(exclude={"warnings"})
    conn.execute(sa.update(IMPORT).where(IMPORT.c.id == import_id).values(**values))
    return counts


def set_total_rows(conn: sa.Connection, *, import_id: str, total_rows: int) -> None:
    conn.execute(sa.update(IMPORT).where(IMPORT.c.id == import_id).values(total_rows=total_rows))


def finish_import(
    conn: sa.Connection, *, import_id: str, status: str, error: str | None, now: datetime
) -> str:
    """Idempotent: a finished import keeps its first outcome and finish time."""
    conn.execute(
        sa.update(IMPORT)
        .where(IMPORT.c.id == import_id, IMPORT.c.status.in_(("pending", "running")))
        .values(status=status, error=None if error is None else error[:2000], finished_at=now)
    )
    return str(conn.execute(sa.select(IMPORT.c.status).where(IMPORT.c.id == import_id)).scalar_one())


# ---------------------------------------------------------------- reads and the import row, for the API
def get_import(engine: sa.Engine, import_id: str) -> sa.RowMapping | None:
    with engine.execution_options(readonly=True).connect() as conn:
        return conn.execute(sa.select(IMPORT).where(IMPORT.c.id == import_id)).mappings().first()


def create_pending(engine: sa.Engine, *, values: dict[str, object]) -> tuple[sa.RowMapping, bool]:
    """Insert the import if it is new. Returns the stored row and whether this call created it."""
    with engine.begin() as conn:
        existing = conn.execute(sa.select(IMPORT).where(IMPORT.c.id == values["id"])).mappings().first()
        if existing is not None:
            return existing, False
        conn.execute(sa.insert(IMPORT).values(status="pending", created_at=utcnow(), **values))
        return conn.execute(sa.select(IMPORT).where(IMPORT.c.id == values["id"])).mappings().one(), True


def list_imports(engine: sa.Engine, *, offset: int, limit: int) -> tuple[int, list[sa.RowMapping]]:
    with engine.execution_options(readonly=True).connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(IMPORT)).scalar_one()
        rows = (
            conn.execute(
                sa.select(IMPORT)
                .order_by(IMPORT.c.created_at.desc(), IMPORT.c.id)
                .offset(offset)
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return total, list(rows)


def issue_rows(
    engine: sa.Engine, import_id: str, *, offset: int, limit: int, severity: str | None
) -> tuple[dict[str, int], list[sa.RowMapping]]:
    """Counts by severity, and one page of the import's report (optionally one severity only)."""
    where = [ISSUE.c.import_id == import_id]
    with engine.execution_options(readonly=True).connect() as conn:
        by_severity: dict[str, int] = {
            sev: n
            for sev, n in conn.execute(
                sa.select(ISSUE.c.severity, sa.func.count()).where(*where).group_by(ISSUE.c.severity)
            )
        }
        if severity:
            where.append(ISSUE.c.severity == severity)
        rows = (
            conn.execute(
                sa.select(ISSUE)
                .where(*where)
                .order_by(ISSUE.c.row_number, ISSUE.c.id)
                .offset(offset)
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return by_severity, list(rows)
