"""Executemany for bulk jobs, without SQLAlchemy's per-row parameter machinery.

`session.execute(stmt, rows)` builds a parameter dict and runs every bind processor for every row: ~15-20 µs a row
on a 2-core machine, which for a nightly job writing about ten rows per SKU over 100,000 SKUs was most of its CPU
(and, on a worker whose pushes share the interpreter, most of its wall time). `execute_many` compiles the statement
once for the session's dialect and hands the driver plain parameter tuples (or dicts, for named paramstyles): the
same SQL, and every value still goes through its type's bind processor - the conversion SQLAlchemy itself applies -
but a value every row shares (a run's timestamp, an account id) is converted once, not once per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session


def execute_many(
    session: Session, stmt: sa.Insert | sa.Update | sa.Delete, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run `stmt` once per row, like `session.execute(stmt, rows)`. Every row has the same keys: column names for
    an INSERT of a table, `bindparam` names otherwise. A statement this path cannot reproduce exactly (column
    defaults computed in Python, IN-lists, RETURNING) goes through `session.execute`."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    compiled = stmt.compile(
        dialect=dialect, column_keys=keys if isinstance(stmt, Insert) else None, for_executemany=True
    )
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.effective_returning
    ):
        session.execute(stmt, rows)
        return
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    names = list(compiled.positiontup or []) if compiled.positional else list(by_name)
    try:
        columns = [_column(by_name[name], rows, keys, dialect) for name in names]
    except Exception as exc:  # a value its type refuses: reported like SQLAlchemy reports it
        raise sa.exc.StatementError(str(exc), str(compiled), None, exc) from exc
    if compiled.positional:
        params: list[Any] = list(zip(*columns, strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    conn.exec_driver_sql(str(compiled), params)


def _column(
    bind: sa.BindParameter[Any], rows: Sequence[Mapping[str, Any]], keys: list[str], dialect: sa.Dialect
) -> list[Any]:
    """One parameter's driver values for every row: the row's value (or the statement's constant) through the bind
    type's processor - the dialect's own implementation of the type, as SQLAlchemy uses (e.g. SQLite's DATETIME
    string format) - converted once when every row carries the same object (a run's timestamp, an account id)."""
    process = bind.type.dialect_impl(dialect).bind_processor(dialect)
    if bind.key not in keys:
        if bind.required:
            raise ValueError(f"no value for parameter {bind.key!r}")
        value = bind.effective_value
        return [process(value) if process else value] * len(rows)
    key = bind.key
    values = [r[key] for r in rows]
    if process is None:
        return values
    first = values[0]
    if all(v is first for v in values):
        return [process(first)] * len(values)
    return list(map(process, values))
