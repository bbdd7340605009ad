"""`merchflow backup` / `merchflow restore`: the application database, Temporal's embedded database, and
optionally the uploads, into one directory with a manifest of checksums.

- SQLite (the default): the SQLite online backup API, so a running engine keeps working and the copy is
  consistent (a plain `cp` of a WAL database is not).
- PostgreSQL: `pg_dump --format=custom` when `pg_dump` is on the PATH (or in /usr/lib/postgresql/*/bin);
  without it, the same command by hand (see README "Backups"), and restore with `pg_restore --clean`.
- Temporal: the embedded dev server's `temporal.db` (SQLite) is copied the same way. A real Temporal cluster is
  backed up with its own database's tools.

Restore refuses to run while `merchflow up` holds the data directory (stop it first).
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


@dataclass
class BackupResult:
    directory: Path
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256


def find_tool(name: str) -> str | None:
    for candidate in [
        shutil.which(name),
        *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True),
    ]:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def sqlite_copy(src: Path, dst: Path) -> None:
    """Online backup: consistent even while another process writes (WAL or not)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target, pages=4096)
    finally:
        target.close()
        source.close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_args(url: str) -> tuple[str, dict[str, str]]:
    """libpq URL without the password (kept out of `ps`), and the password as PGPASSWORD."""
    u = sa.engine.make_url(url)
    env = {"PGPASSWORD": u.password} if u.password else {}
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(url: str, out: Path) -> tuple[list[str], dict[str, str]]:
    tool = find_tool("pg_dump")
    if tool is None:
        raise BackupError(
            "pg_dump not found: install the PostgreSQL client (apt install postgresql-client) or run "
            f"`pg_dump --format=custom --file {out} <database URL>` yourself"
        )
    dsn, env = _pg_args(url)
    return [tool, "--format=custom", "--no-owner", f"--file={out}", f"--dbname={dsn}"], env


def backup(settings: Settings, out_dir: Path | None = None, *, blobs: bool = False) -> BackupResult:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = Path(settings.retention.backup_dir)
    root = base if base.is_absolute() else settings.data_dir / base
    dest = out_dir or root / stamp
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    result = BackupResult(dest)
    url = settings.sqlalchemy_url
    kind = sa.engine.make_url(url).get_backend_name()
    if kind == "sqlite":
        db = Path(sa.engine.make_url(url).database or "")
        if not db.exists():
            raise BackupError(f"no database at {db}")
        sqlite_copy(db, dest / "merchflow.db")
    elif kind == "postgresql":
        cmd, env = pg_dump_command(url, dest / "merchflow.pgdump")
        subprocess.run(cmd, env={**os.environ, **env}, check=True, capture_output=True)  # noqa: S603
    else:
        raise BackupError(f"no backup method for {kind} databases")
    temporal_db = settings.data_dir / "temporal.db"
    if settings.embedded_temporal and temporal_db.exists():
        sqlite_copy(temporal_db, dest / "temporal.db")
    if blobs and settings.blob_dir.is_dir():
        with tarfile.open(dest / "blobs.tar.gz", "w:gz") as tar:
            # half-written uploads (blobs/.tmp) are not worth keeping
            tar.add(
                settings.blob_dir,
                arcname="blobs",
                filter=lambda t: None if t.name.startswith("blobs/.tmp") else t,
            )
    for p in sorted(dest.iterdir()):
        result.files[p.name] = _sha256(p)
    manifest = {"created_at": stamp, "database": kind, "files": result.files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    log.info("backup written", directory=str(dest), files=sorted(result.files))
    return result


def verify(backup_dir: Path) -> dict[str, object]:
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    for name, digest in manifest["files"].items():
        if _sha256(backup_dir / name) != digest:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")
    return manifest  # type: ignore[no-any-return]


def _refuse_if_running(settings: Settings) -> None:
    lock = settings.data_dir / "up.lock"
    if not lock.exists():
        return
    with lock.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                "`merchflow up` is running on this data dir: stop it before restoring"
            ) from None


def restore(
    settings: Settings, backup_dir: Path, *, temporal: bool = False, blobs: bool = False
) -> list[str]:
    """Puts the backup's files back. Returns what was restored."""
    manifest = verify(backup_dir)
    _refuse_if_running(settings)
    done = []
    url = settings.sqlalchemy_url
    kind = sa.engine.make_url(url).get_backend_name()
    if manifest["database"] != kind:
        raise BackupError(f"the backup holds a {manifest['database']} database; this engine uses {kind}")
    if kind == "sqlite":
        db = Path(sa.engine.make_url(url).database or "")
        sqlite_copy(backup_dir / "merchflow.db", db)
        done.append(str(db))
    else:
        tool = find_tool("pg_restore")
        if tool is None:
            raise BackupError(
                "pg_restore not found: install the PostgreSQL client (apt install postgresql-client)"
            )
        dsn, env = _pg_args(url)
        cmd = [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={dsn}",
            str(backup_dir / "merchflow.pgdump"),
        ]
        subprocess.run(cmd, env={**os.environ, **env}, check=True, capture_output=True)  # noqa: S603
        done.append("postgresql database")
    if temporal and (backup_dir / "temporal.db").exists():
        sqlite_copy(backup_dir / "temporal.db", settings.data_dir / "temporal.db")
        done.append("temporal.db")
    if blobs and (backup_dir / "blobs.tar.gz").exists():
        with tarfile.open(backup_dir / "blobs.tar.gz") as tar:
            tar.extractall(settings.blob_dir.parent, filter="data")
        done.append("blobs")
    return done
