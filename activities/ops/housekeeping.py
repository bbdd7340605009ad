"""Housekeeping (daily schedule): rotate and expire logs in <data_dir>/logs, delete uploads past retention, trim
the sandbox marketplaces' request logs; and the plan of the outbox re-sender (every half hour).

Files are local to the worker that runs the activity: with several machines, give them one shared data dir
(the blob store must be shared anyway) or run housekeeping where `merchflow up` writes its logs.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import activity

from activities.decisions import notifications
from connectors.blobs.local import TMP_DIR
from domain.ops.retention import (
    FileFact,
    logs_to_rotate,
    past_retention,
    rotated_logs_past_retention,
    rotated_name,
)
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.telemetry.metrics import HOUSEKEEPING_DELETED
from workers.deps import Deps
from workflows.ops.contract import HousekeepingInput, LogRotationResult, PurgeResult, ResendInput, ResendPlan

from . import repository as repo

log = get_logger(__name__)

TMP_RETENTION = timedelta(days=1)  # half-written uploads of crashed requests


def file_facts(directory: Path) -> list[FileFact]:
    if not directory.is_dir():
        return []
    out = []
    for p in directory.iterdir():
        if p.is_file():
            st = p.stat()
            out.append(FileFact(p.name, datetime.fromtimestamp(st.st_mtime, UTC), st.st_size))
    return out


def rotate_logs(log_dir: Path, *, now: datetime, keep: timedelta, min_bytes: int) -> LogRotationResult:
    """copytruncate: the writers (the Temporal server's output, ...) keep their O_APPEND descriptors, so the live
    file is copied (gzipped) and then truncated; lines written between the two steps are lost (milliseconds)."""
    result = LogRotationResult()
    for name in logs_to_rotate(file_facts(log_dir), min_bytes=min_bytes):
        src = log_dir / name
        dst = log_dir / rotated_name(name, now)
        with src.open("rb") as f_in, gzip.open(dst, "wb") as f_out:
            shutil.copyfileobj(f_in, f_out)
        os.truncate(src, 0)
        os.utime(dst, (now.timestamp(), now.timestamp()))  # its newest line is from now
        result.rotated.append(name)
    for name in rotated_logs_past_retention(file_facts(log_dir), now=now, keep=keep):
        (log_dir / name).unlink(missing_ok=True)
        result.deleted.append(name)
    HOUSEKEEPING_DELETED.labels("log_file").inc(len(result.deleted))
    return result


def _import_id(blob_name: str) -> str | None:
    if blob_name.startswith("catalog-") and "." in blob_name:
        return blob_name[len("catalog-") :].rsplit(".", 1)[0]
    return None


def purge_uploads(blob_dir: Path, in_use: set[str], *, now: datetime, keep: timedelta) -> PurgeResult:
    facts = file_facts(blob_dir)
    protected = {f.name for f in facts if _import_id(f.name) in in_use}
    doomed = past_retention(facts, now=now, keep=keep, protected=protected)
    doomed += past_retention(file_facts(blob_dir / TMP_DIR), now=now, keep=TMP_RETENTION, protected=set())
    for name in doomed:
        path = blob_dir / name if (blob_dir / name).exists() else blob_dir / TMP_DIR / name
        path.unlink(missing_ok=True)
    HOUSEKEEPING_DELETED.labels("upload").inc(len(doomed))
    return PurgeResult(deleted=len(doomed), kept=len(facts) - len(doomed))


def purge_sandbox_requests(sandbox_dir: Path, *, now: datetime, keep: timedelta) -> PurgeResult:
    """The sandboxes' request logs (sbx_request.at is epoch seconds); effects and idempotency records stay."""
    result = PurgeResult()
    cutoff = (now - keep).timestamp()
    for db in sorted(sandbox_dir.glob("*.db")) if sandbox_dir.is_dir() else []:
        conn = sqlite3.connect(str(db), timeout=30)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sbx_request'").fetchone():
                continue
            with conn:
                result.deleted += conn.execute("DELETE FROM sbx_request WHERE at < ?", (cutoff,)).rowcount
            result.kept += conn.execute("SELECT count(*) FROM sbx_request").fetchone()[0]
        finally:
            conn.close()
    HOUSEKEEPING_DELETED.labels("sandbox_request").inc(result.deleted)
    return result


class HousekeepingActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.engine = deps.engine

    @activity.defn(name="ops.rotate_logs")
    def rotate_logs(self, inp: HousekeepingInput) -> LogRotationResult:
        r = self.settings.retention
        return rotate_logs(
            self.settings.data_dir / "logs",
            now=utcnow(),
            keep=timedelta(days=r.log_retention_days),
            min_bytes=r.log_rotate_bytes,
        )

    @activity.defn(name="ops.purge_uploads")
    def purge_uploads(self, inp: HousekeepingInput) -> PurgeResult:
        now, keep = utcnow(), timedelta(days=self.settings.retention.upload_retention_days)
        with session_scope(self.engine) as s:
            in_use = repo.upload_keys_in_use(s, finished_before=now - keep)
        return purge_uploads(self.settings.blob_dir, in_use, now=now, keep=keep)

    @activity.defn(name="ops.purge_sandbox_requests")
    def purge_sandbox_requests(self, inp: HousekeepingInput) -> PurgeResult:
        keep = timedelta(days=self.settings.retention.sandbox_request_days)
        return purge_sandbox_requests(self.settings.data_dir / "sandboxes", now=utcnow(), keep=keep)

    @activity.defn(name="ops.resend_plan")
    def resend_plan(self, inp: ResendInput) -> ResendPlan:
        r = self.settings.retention
        plan = ResendPlan()
        with session_scope(self.engine) as s:
            stale = repo.stale_pending_notices(
                s, older_than=utcnow() - timedelta(minutes=r.resend_after_minutes)
            )
            for outbox_id, attempts in stale:
                if attempts >= r.resend_max_attempts:
                    notifications.mark_failed(s, outbox_id, f"given up after {attempts} delivery attempts")
                    plan.given_up.append(outbox_id)
                else:
                    plan.outbox_ids.append(outbox_id)
        if plan.given_up:
            log.warning("notices given up", outbox_ids=plan.given_up)
        return plan
