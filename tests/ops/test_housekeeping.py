"""Housekeeping deletes only what is past retention: rotated logs, uploads of long-finished imports, half-written
uploads, old sandbox request rows; the live logs are rotated (copytruncate) and keep being written. The outbox
re-sender delivers notices that failed every retry and gives up on hopeless ones. Run as the real workflows."""

from __future__ import annotations

import gzip
import os
import sqlite3
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities.catalog.tables import CatalogImport
from activities.decisions.tables import NotificationOutbox
from merchflow.db.engine import engine_for, session_scope
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from sandboxes.common.store import SandboxStore
from tests.decisions.servers import webhook_server
from workers.build import build_deps, build_workers
from workflows.ops.contract import (
    HOUSEKEEPING_WORKFLOW,
    RESEND_WORKFLOW,
    HousekeepingInput,
    HousekeepingResult,
    ResendInput,
    ResendResult,
)

DAY = 86400.0


def _age(path: Path, days: float) -> None:
    t = time.time() - days * DAY
    os.utime(path, (t, t))


def _settings(tmp_path: Path, sqlite_url: str, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=sqlite_url,  # type: ignore[arg-type]
        retention={"log_retention_days": 30, "upload_retention_days": 14, "sandbox_request_days": 7},
        **extra,  # type: ignore[arg-type]
    )


def _import(import_id: str, finished_days_ago: float | None) -> CatalogImport:
    now = utcnow()
    return CatalogImport(
        id=import_id,
        filename=f"{import_id}.csv",
        file_format="csv",
        size_bytes=10,
        status="completed" if finished_days_ago is not None else "running",
        created_at=now - timedelta(days=(finished_days_ago or 0) + 1),
        finished_at=now - timedelta(days=finished_days_ago) if finished_days_ago is not None else None,
    )


async def test_housekeeping_deletes_only_what_is_past_retention(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> None:
    settings = _settings(tmp_path, sqlite_url)
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True)
    live = logs / "temporal.log"
    writer = live.open("ab")  # held open like `up` holds the Temporal server's output
    writer.write(b"line 1\nline 2\n")
    writer.flush()
    old_rotated = logs / "temporal.log.20260101-031700.gz"
    young_rotated = logs / "temporal.log.20261125-031700.gz"
    for p, days in ((old_rotated, 31), (young_rotated, 29)):
        p.write_bytes(gzip.compress(b"old lines\n"))
        _age(p, days)

    blobs = settings.blob_dir
    (blobs / ".tmp").mkdir(parents=True)
    files = {
        "catalog-old.csv": 20,  # import finished 20 days ago: past the 14-day retention
        "catalog-recent.csv": 20,  # file is old, but its import finished 3 days ago: kept
        "catalog-running.csv": 60,  # import still running: kept whatever its age
        "catalog-young.csv": 2,
        ".tmp/half-written": 2,  # a crashed upload, older than a day
        ".tmp/in-flight": 0,
    }
    for name, days in files.items():
        (blobs / name).write_bytes(b"sku,qty\n")
        _age(blobs / name, days)
    with session_scope(engine_for(sqlite_url)) as s:
        s.add_all([_import("old", 20), _import("recent", 3), _import("running", None), _import("young", 1)])

    store = SandboxStore(settings.data_dir / "sandboxes" / "amazon.db")
    now = time.time()
    with store.tx() as conn:
        for i, days in enumerate((10, 8, 6, 0.1)):
            conn.execute(
                "INSERT INTO sbx_request (at, method, path, status) VALUES (?, 'GET', ?, 200)",
                (now - days * DAY, f"/r{i}"),
            )
    store.conn.close()

    deps = build_deps(settings)
    queue = f"hk-{uuid.uuid4().hex[:8]}"
    [worker] = build_workers(temporal_env.client, deps, only=["main"], task_queue_override=queue)
    async with worker:
        result = await temporal_env.client.execute_workflow(
            HOUSEKEEPING_WORKFLOW,
            HousekeepingInput(),
            id=f"hk-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=HousekeepingResult,
        )
    assert result.logs.rotated == ["temporal.log"]
    assert result.logs.deleted == [old_rotated.name]
    assert not old_rotated.exists() and young_rotated.exists()
    [fresh] = [p for p in logs.glob("temporal.log.*.gz") if p not in (young_rotated,)]
    assert gzip.decompress(fresh.read_bytes()) == b"line 1\nline 2\n"
    writer.write(b"line 3\n")  # the writer goes on in the truncated file, from its start
    writer.close()
    assert live.read_bytes() == b"line 3\n"

    left = sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file())
    assert sorted(left) == sorted(
        ["catalog-recent.csv", "catalog-running.csv", "catalog-young.csv", ".tmp/in-flight"]
    )
    assert result.uploads.deleted == 2

    conn = sqlite3.connect(settings.data_dir / "sandboxes" / "amazon.db")
    assert [r[0] for r in conn.execute("SELECT path FROM sbx_request ORDER BY id")] == ["/r2", "/r3"]
    conn.close()
    assert result.sandbox_requests.deleted == 2 and result.sandbox_requests.kept == 2
    await deps.services["marketplaces"].aclose()
    deps.engine.dispose()


async def test_outbox_resender_delivers_stale_notices_and_gives_up_on_hopeless_ones(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> None:
    with webhook_server() as (hook_url, hook):
        settings = _settings(tmp_path, sqlite_url, notifications={"webhook_url": hook_url})
        settings.retention.resend_after_minutes = 60
        settings.retention.resend_max_attempts = 12
        deps = build_deps(settings)
        old = utcnow() - timedelta(hours=3)

        def notice(key: str, attempts: int, created: object, status: str = "pending") -> NotificationOutbox:
            return NotificationOutbox(
                dedupe_key=key, event="needs_approval", subject=f"subject {key}", body="b", status=status,
                attempts=attempts, created_at=created,
            )  # fmt: skip

        with session_scope(deps.engine) as s:
            rows = [
                notice("stale", 12 - 1, old),  # its workflow gave up: re-sent
                notice("hopeless", 12, old),  # too many attempts: marked failed
                notice("fresh", 2, utcnow()),  # its workflow may still be retrying: left alone
                notice("done", 1, old, status="sent"),
            ]
            s.add_all(rows)
            s.flush()
            ids = {r.dedupe_key: r.id for r in rows}
        queue = f"rs-{uuid.uuid4().hex[:8]}"
        [worker] = build_workers(temporal_env.client, deps, only=["main"], task_queue_override=queue)
        async with worker:
            result = await temporal_env.client.execute_workflow(
                RESEND_WORKFLOW,
                ResendInput(),
                id=f"rs-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
                result_type=ResendResult,
            )
        assert (
            result.delivered == [ids["stale"]]
            and result.given_up == [ids["hopeless"]]
            and result.still_pending == []
        )
        assert [m["text"].split("\n")[0] for m in hook.received] == ["*subject stale*"]
        with session_scope(deps.engine) as s:
            status = {r.dedupe_key: r.status for r in s.query(NotificationOutbox).all()}  # type: ignore[attr-defined]
        assert status == {"stale": "sent", "hopeless": "failed", "fresh": "pending", "done": "sent"}
        await deps.services["marketplaces"].aclose()
        deps.engine.dispose()
