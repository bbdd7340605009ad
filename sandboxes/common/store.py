"""Persistent sandbox state: one SQLite file per sandbox (WAL), plain sqlite3 for speed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

COMMON_SCHEMA = """
CREATE TABLE IF NOT EXISTS sbx_request (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT,
    mutating INTEGER NOT NULL DEFAULT 1,
    operation TEXT,
    idempotency_key TEXT,
    body_sha256 TEXT,
    status INTEGER,
    fault TEXT
);
CREATE TABLE IF NOT EXISTS sbx_effect (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    request_id INTEGER,
    idempotency_key TEXT,
    entity TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX IF NOT EXISTS ix_sbx_effect_entity ON sbx_effect(entity, field);
CREATE TABLE IF NOT EXISTS sbx_idempotency (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sbx_kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""


class SandboxStore:
    """A single connection guarded by a lock: the sandbox runs in one event loop, and SQLite serialises writers
    anyway. Handlers call it synchronously; statements are short."""

    def __init__(self, path: Path | str, schema: str = "") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(COMMON_SCHEMA + schema)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A data directory from an older version keeps its tables (CREATE IF NOT EXISTS): add newer columns."""
        have = {row["name"] for row in self.conn.execute("PRAGMA table_info(sbx_request)")}
        for name, decl in (("query", "TEXT"), ("mutating", "INTEGER NOT NULL DEFAULT 1")):
            if name not in have:
                self.conn.execute(f"ALTER TABLE sbx_request ADD COLUMN {name} {decl}")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        with self.tx() as c:
            c.executemany(sql, rows)

    def get_kv(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT v FROM sbx_kv WHERE k = ?", (key,))
        return row["v"] if row else default

    def set_kv(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO sbx_kv(k, v) VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", (key, value)
        )

    def close(self) -> None:
        with self.lock:
            self.conn.close()
