"""Acceptance: SIGKILL the worker (`python -m merchflow worker`, a real subprocess) in the middle of an import,
start a new one, and the import completes with no duplicate rows and counts that add up."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from merchflow.db.engine import make_engine
from workflows.catalog.contract import CatalogImportInput
from workflows.catalog.contract import import_workflow_id as workflow_id_for
from workflows.catalog.imports import CatalogImportWorkflow

ROWS, DUPLICATES, INVALID, BATCH = 6000, 15, 12, 100


def write_catalog(path: Path) -> None:
    lines = ["sku,name,cost,price"]
    lines += [f"K-{i:05d},Kill test product {i},{i % 90 + 1}.10,{i % 90 + 5}.99" for i in range(ROWS)]
    lines += [f"K-{i:05d},Duplicate {i},1,2" for i in range(0, DUPLICATES * 7, 7)]
    lines += [f"BAD-{i},Negative {i},-{i + 1},2" for i in range(INVALID)]
    path.write_text("\n".join(lines) + "\n")


def spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", "worker"],
        env=env,
        cwd=log.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def committed_batches(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM catalog_import_batch")).scalar_one())


@pytest.mark.slow
async def test_killing_the_worker_mid_import_then_restarting_completes_without_duplicates(
    temporal_env: WorkflowEnvironment, db_url: str, tmp_path: Path
) -> None:
    prefix = f"kill-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    (data_dir / "blobs").mkdir(parents=True)
    import_id = uuid.uuid4().hex
    blob_key = f"catalog-{import_id}.csv"
    write_catalog(data_dir / "blobs" / blob_key)
    env = {
        **os.environ,
        "MERCHFLOW_ENVIRONMENT": "test",
        "MERCHFLOW_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "MERCHFLOW_DATABASE_URL": db_url,
        "MERCHFLOW_TEMPORAL__TASK_QUEUE_PREFIX": prefix,
        "MERCHFLOW_DATA_DIR": str(data_dir),
        "MERCHFLOW_SEED_DEMO": "false",
        "MERCHFLOW_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "worker.log"
    engine = make_engine(db_url)
    workers = [spawn_worker(env, log)]
    try:
        handle = await temporal_env.client.start_workflow(
            CatalogImportWorkflow.run,
            CatalogImportInput(
                import_id=import_id,
                blob_key=blob_key,
                file_format="csv",
                filename="kill.csv",
                size_bytes=(data_dir / "blobs" / blob_key).stat().st_size,
                batch_size=BATCH,
                heartbeat_timeout_seconds=3,  # how soon Temporal gives up on the dead worker's attempt
            ),
            id=workflow_id_for(import_id),
            task_queue=f"{prefix}-main",
        )
        deadline = time.monotonic() + 120
        while committed_batches(engine) < 1:
            assert workers[0].poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the first worker never committed a batch"
            await asyncio.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        at_kill = committed_batches(engine)
        total_batches = -(-(ROWS + DUPLICATES + INVALID) // BATCH)
        assert at_kill < total_batches, "the import finished before the kill; make the file bigger"
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

        workers.append(spawn_worker(env, log))
        result = await asyncio.wait_for(handle.result(), timeout=240)
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                try:
                    w.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    w.kill()

    assert result.status == "completed", result.error
    c = result.counts
    assert result.total_rows == ROWS + DUPLICATES + INVALID
    assert c.processed_rows == ROWS + DUPLICATES + INVALID
    assert (c.valid_rows, c.inserted, c.updated, c.unchanged) == (ROWS, ROWS, 0, 0)
    assert c.invalid_rows == DUPLICATES + INVALID
    with engine.connect() as conn:
        q = lambda sql: conn.execute(sa.text(sql)).all()  # noqa: E731
        assert q("SELECT count(*), count(DISTINCT sku) FROM product") == [(ROWS, ROWS)]
        assert q("SELECT sku FROM product GROUP BY sku HAVING count(*) > 1") == []
        assert q("SELECT count(*), count(DISTINCT row_number) FROM catalog_import_issue") == [
            (DUPLICATES + INVALID, DUPLICATES + INVALID)
        ]
        batches = q("SELECT first_row, next_row, rows FROM catalog_import_batch ORDER BY first_row")
        assert len(batches) == total_batches
        assert all(a.next_row == b.first_row for a, b in itertools.pairwise(batches))
        assert sum(b.rows for b in batches) == ROWS + DUPLICATES + INVALID
        ((status, inserted, invalid),) = q("SELECT status, inserted, invalid_rows FROM catalog_import")
        assert (status, inserted, invalid) == ("completed", ROWS, DUPLICATES + INVALID)
    engine.dispose()
