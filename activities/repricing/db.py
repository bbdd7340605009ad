"""Write transactions of the repricing activities.

SQLite has one writer at a time and its busy handler polls: with four accounts' batches and pushes writing from
one worker's threads, an unlucky writer can starve past the busy timeout ("database is locked") although every
transaction is short. Writers of this process queue on a lock first, so they take turns instead of polling; and
a write that must happen (recording what a marketplace already applied) retries a lock timeout from another
process instead of failing the activity, whose retry would push everything again. PostgreSQL needs neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from merchflow.db.engine import session_scope

T = TypeVar("T")
_SQLITE_WRITER = threading.Lock()


@contextmanager
def writing(
    engine: sa.Engine,
    beat: Callable[[], None] | None = None,
    waited: Callable[[float], None] | None = None,
) -> Iterator[Session]:
    """A write transaction; `beat` is called while waiting for this process's earlier writers (heartbeats),
    `waited` is told how long that wait was."""
    if engine.dialect.name != "sqlite":
        with session_scope(engine) as s:
            yield s
        return
    started = time.perf_counter()
    while not _SQLITE_WRITER.acquire(timeout=5):
        if beat is not None:
            beat()
    if waited is not None:
        waited(time.perf_counter() - started)
    try:
        with session_scope(engine) as s:
            yield s
    finally:
        _SQLITE_WRITER.release()


def _locked(exc: sa.exc.OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


def write_with_retry(
    engine: sa.Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = 10,
    beat: Callable[[], None] | None = None,
) -> T:
    """Run `work` in a write transaction; a SQLite lock timeout (another process writing) is retried."""
    for attempt in range(attempts):
        try:
            with writing(engine, beat) as s:
                return work(s)
        except sa.exc.OperationalError as exc:
            if not _locked(exc) or attempt == attempts - 1:
                raise
            if beat is not None:
                beat()
            time.sleep(min(5.0, 0.2 * 2**attempt))
    raise AssertionError("unreachable")
