"""Database side of sales history: imports (rows, issues, committed batches), sale lines, and the copy of the
engine's own orders. Functions take the connection; callers own the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from activities.forecasting.tables import (
    SalesImport,
    SalesImportBatch,
    SalesImportIssue,
    SalesLine,
    SalesSyncCursor,
)
from domain.catalog.issues import RowIssue
from domain.forecasting.sales import line_key
from merchflow.db.types import utcnow
from workflows.forecasting.contract import SalesBatchResult, SalesImportCounts

IMPORT = SalesImport.__table__  # type: ignore[attr-defined]
ISSUE = SalesImportIssue.__table__  # type: ignore[attr-defined]
BATCH = SalesImportBatch.__table__  # type: ignore[attr-defined]
LINE = SalesLine.__table__  # type: ignore[attr-defined]
CURSOR = SalesSyncCursor.__table__  # type: ignore[attr-defined]
_CHUNK = 2000
_COUNTS = ("valid_rows", "invalid_rows", "inserted", "duplicates")


def insert_ignore(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def ensure_import(conn: sa.Connection, *, values: dict[str, Any]) -> None:
    conn.execute(insert_ignore(conn, IMPORT).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    conn.execute(
        sa.update(IMPORT)
        .where(IMPORT.c.id == values["id"], IMPORT.c.status == "pending")
        .values(status="running", workflow_id=values["workflow_id"])
    )


def insert_issues(conn: sa.Connection, *, import_id: str, issues: Iterable[RowIssue]) -> None:
    rows = [
        {"import_id": import_id, "row_number": i.row_number, "field": i.field[:100], "code": i.code,
         "message": i.message[:500], "severity": str(i.severity)}
        for i in issues
    ]  # fmt: skip
    if rows:
        conn.execute(insert_ignore(conn, ISSUE).on_conflict_do_nothing(), rows)


def set_total_rows(conn: sa.Connection, *, import_id: str, total_rows: int) -> None:
    conn.execute(sa.update(IMPORT).where(IMPORT.c.id == import_id).values(total_rows=total_rows))


def stored_batch(conn: sa.Connection, *, import_id: str, first_row: int) -> SalesBatchResult | None:
    row = (
        conn.execute(sa.select(BATCH).where(BATCH.c.import_id == import_id, BATCH.c.first_row == first_row))
        .mappings()
        .first()
    )
    if row is None:
        return None
    counts = SalesImportCounts(processed_rows=row["rows"], **{f: row[f] for f in _COUNTS})
    return SalesBatchResult(
        first_row=row["first_row"], next_row=row["next_row"], next_offset=row["next_offset"], done=row["done"],
        counts=counts,
    )  # fmt: skip


def record_batch(conn: sa.Connection, *, import_id: str, result: SalesBatchResult) -> None:
    """Plain INSERT: a concurrent attempt of the same batch fails here and rolls back whole."""
    c = result.counts
    conn.execute(
        sa.insert(BATCH).values(
            import_id=import_id, first_row=result.first_row, next_row=result.next_row,
            next_offset=result.next_offset, done=result.done, rows=c.processed_rows, created_at=utcnow(),
            **{f: getattr(c, f) for f in _COUNTS},
        )
    )  # fmt: skip


def assign_line_keys(conn: sa.Connection, *, import_id: str, content_keys: Sequence[str]) -> list[str]:
    """Line keys for a batch's rows in file order: identical rows get occurrence numbers 0, 1, 2, ... counted
    over the whole file (earlier batches of this import included), so a re-import maps onto the same keys."""
    wanted: dict[str, int] = defaultdict(int)
    for h in content_keys:
        wanted[h] += 1
    taken: dict[str, int] = {}  # content key -> occurrences already used by earlier batches of this import
    pending = {h: (0, n) for h, n in wanted.items()}
    while pending:  # rounds only repeat for rows repeated across batches, which is rare
        keys = [line_key(h, k) for h, (lo, n) in pending.items() for k in range(lo, lo + n)]
        found: set[str] = set()
        for i in range(0, len(keys), _CHUNK):
            q = sa.select(LINE.c.line_key).where(
                LINE.c.import_id == import_id, LINE.c.line_key.in_(keys[i : i + _CHUNK])
            )
            found.update(conn.execute(q).scalars())
        nxt = {}
        for h, (lo, n) in pending.items():
            used = sum(1 for k in range(lo, lo + n) if line_key(h, k) in found)
            taken[h] = taken.get(h, 0) + used
            if used == n:
                nxt[h] = (lo + n, n)
        pending = nxt
    seen: dict[str, int] = defaultdict(int)
    out = []
    for h in content_keys:
        out.append(line_key(h, taken.get(h, 0) + seen[h]))
        seen[h] += 1
    return out


def insert_lines(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT (line_key) DO NOTHING; returns how many were new."""
    if not rows:
        return 0
    keys = [r["line_key"] for r in rows]
    before = _count_keys(conn, keys)
    conn.execute(insert_ignore(conn, LINE).on_conflict_do_nothing(index_elements=["line_key"]), rows)
    return _count_keys(conn, keys) - before


def _count_keys(conn: sa.Connection, keys: Sequence[str]) -> int:
    n = 0
    for i in range(0, len(keys), _CHUNK):
        q = sa.select(sa.func.count()).select_from(LINE).where(LINE.c.line_key.in_(keys[i : i + _CHUNK]))
        n += int(conn.execute(q).scalar_one())
    return n


def refresh_totals(conn: sa.Connection, *, import_id: str) -> SalesImportCounts:
    cols = [sa.func.coalesce(sa.func.sum(BATCH.c[f]), 0) for f in ("rows", *_COUNTS)]
    sums = conn.execute(sa.select(*cols).where(BATCH.c.import_id == import_id)).one()
    counts = SalesImportCounts(
        processed_rows=int(sums[0]), **{f: int(v) for f, v in zip(_COUNTS, sums[1:], strict=True)}
    )
    conn.execute(sa.update(IMPORT).where(IMPORT.c.id == import_id).values(**counts.model_dump()))
    return counts


def finish_import(
    conn: sa.Connection, *, import_id: str, status: str, error: str | None, now: datetime
) -> str:
    conn.execute(
        sa.update(IMPORT)
        .where(IMPORT.c.id == import_id, IMPORT.c.status.in_(("pending", "running")))
        .values(status=status, error=None if error is None else error[:2000], finished_at=now)
    )
    return str(conn.execute(sa.select(IMPORT.c.status).where(IMPORT.c.id == import_id)).scalar_one())


# ---------------------------------------------------------------- reads for the API
def get_import(engine: sa.Engine, import_id: str) -> sa.RowMapping | None:
    with engine.execution_options(readonly=True).connect() as conn:
        return conn.execute(sa.select(IMPORT).where(IMPORT.c.id == import_id)).mappings().first()


def create_pending(engine: sa.Engine, *, values: dict[str, object]) -> tuple[sa.RowMapping, bool]:
    with engine.begin() as conn:
        existing = conn.execute(sa.select(IMPORT).where(IMPORT.c.id == values["id"])).mappings().first()
        if existing is not None:
            return existing, False
        conn.execute(sa.insert(IMPORT).values(status="pending", created_at=utcnow(), **values))
        return conn.execute(sa.select(IMPORT).where(IMPORT.c.id == values["id"])).mappings().one(), True


def issue_rows(
    engine: sa.Engine, import_id: str, *, offset: int, limit: int
) -> tuple[int, list[sa.RowMapping]]:
    with engine.execution_options(readonly=True).connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(ISSUE).where(ISSUE.c.import_id == import_id)
        ).scalar_one()
        rows = conn.execute(
            sa.select(ISSUE).where(ISSUE.c.import_id == import_id)
            .order_by(ISSUE.c.row_number, ISSUE.c.id).offset(offset).limit(limit)
        ).mappings().all()  # fmt: skip
    return int(total), list(rows)
