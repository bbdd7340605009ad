"""Engine and session factory. SQLite gets WAL and a busy timeout so the API and workers can share a file."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers take the database lock at BEGIN, not at their first write: this is what serialises stock
    # allocation on SQLite (the PostgreSQL path uses SELECT ... FOR UPDATE instead) and avoids
    # SQLITE_BUSY deadlocks between two readers upgrading to writers.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE is really what starts a transaction.
        event.listen(engine, "connect", lambda c, _: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


@functools.lru_cache(maxsize=8)
def engine_for(url: str) -> sa.Engine:
    return make_engine(url)


@contextmanager
def read_session(engine: sa.Engine) -> Iterator[Session]:
    """Read-only unit of work: on SQLite it does not take the writer lock, so pages stay fast under writes."""
    with Session(engine.execution_options(readonly=True), expire_on_commit=False) as session:
        yield session


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
