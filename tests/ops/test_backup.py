"""`merchflow backup` -> `merchflow restore` round trip, as the README documents it, on SQLite and PostgreSQL:
what was in the database at backup time is back after the restore, later changes are gone; the embedded
Temporal database comes along; restore refuses while `merchflow up` holds the data directory."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from merchflow.backup import BackupError, backup, find_tool, restore
from merchflow.db.engine import session_scope
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from merchflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _product(sku: str) -> Product:
    now = utcnow()
    return Product(
        sku=sku, name=f"Item {sku}", cost="5.00", price="9.99", currency="USD", added_at=now, updated_at=now
    )


def _skus(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT sku FROM product ORDER BY sku"))]


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
    env |= {"MERCHFLOW_DATA_DIR": str(settings.data_dir), "MERCHFLOW_DATABASE_URL": settings.sqlalchemy_url}
    return subprocess.run(
        [sys.executable, "-m", "merchflow", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_restore_round_trip_through_the_cli(tmp_path: Path, db_url: str, engine: sa.Engine) -> None:
    if db_url.startswith("postgresql") and find_tool("pg_dump") is None:
        pytest.skip("pg_dump not installed (the README's manual pg_dump path applies)")
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path / "data", database_url=db_url)  # type: ignore[call-arg, arg-type]
    settings.data_dir.mkdir(parents=True)
    temporal_db = settings.data_dir / "temporal.db"  # stands in for the embedded dev server's database
    conn = sqlite3.connect(temporal_db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE executions (id TEXT)")
    conn.execute("INSERT INTO executions VALUES ('order-1')")
    conn.commit()  # and left open, as the running server would

    with session_scope(engine) as s:
        s.add_all([_product("BK-1"), _product("BK-2")])
    out = tmp_path / "backup-1"
    done = _cli(settings, "backup", "--output", str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    db_file = "merchflow.db" if db_url.startswith("sqlite") else "merchflow.pgdump"
    assert set(manifest["files"]) == {db_file, "temporal.db"}

    # life goes on after the backup
    with session_scope(engine) as s:
        s.add(_product("BK-3"))
        s.execute(sa.delete(Product).where(Product.sku == "BK-1"))
    conn.execute("INSERT INTO executions VALUES ('order-2')")
    conn.commit()
    conn.close()
    assert _skus(engine) == ["BK-2", "BK-3"]

    engine.dispose()
    done = _cli(settings, "restore", str(out), "--temporal", "--yes")
    assert done.returncode == 0, done.stderr + done.stdout
    assert _skus(engine) == ["BK-1", "BK-2"]
    with sqlite3.connect(temporal_db) as c:
        assert [r[0] for r in c.execute("SELECT id FROM executions")] == ["order-1"]


def test_restore_refuses_a_damaged_backup_and_a_running_engine(
    tmp_path: Path, sqlite_engine: sa.Engine
) -> None:
    url = str(sqlite_engine.url)
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path / "data", database_url=url)  # type: ignore[call-arg, arg-type]
    settings.data_dir.mkdir(parents=True)
    result = backup(settings, tmp_path / "b")
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "b")
    with (settings.data_dir / "up.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BackupError, match="merchflow up"):
            restore(settings, result.directory)
    (result.directory / "merchflow.db").write_bytes(b"garbage")
    with pytest.raises(BackupError, match="checksum"):
        restore(settings, result.directory)
