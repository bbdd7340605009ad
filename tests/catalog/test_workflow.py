"""The catalog-import workflow on the real Temporal dev server, with a worker built in the test."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.catalog.activities import CatalogActivities
from connectors.blobs.local import LocalBlobStore
from merchflow.settings import Settings
from workers.deps import Deps
from workers.registry import activity_callables
from workflows.catalog.contract import CatalogImportInput, CatalogImportResult
from workflows.catalog.contract import import_workflow_id as workflow_id_for
from workflows.catalog.imports import CatalogImportWorkflow


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment, task_queue: str, sqlite_engine: sa.Engine, blobs: LocalBlobStore
) -> AsyncIterator[Worker]:
    settings = Settings(_env_file=None, environment="test")  # type: ignore[call-arg]
    acts = CatalogActivities(Deps(settings=settings, engine=sqlite_engine, blobs=blobs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        w = Worker(
            temporal_env.client,
            task_queue=task_queue,
            workflows=[CatalogImportWorkflow],
            activities=activity_callables(acts),
            activity_executor=pool,
        )
        async with w:
            yield w


async def run_import(
    client: Client,
    task_queue: str,
    blobs: LocalBlobStore,
    content: str | bytes | None,
    fmt: str = "csv",
    **kw: object,
) -> tuple[str, CatalogImportResult, str]:
    """Runs an import of `content` (None: the blob is missing) to its end."""
    import_id = uuid.uuid4().hex
    key = f"{import_id}.{fmt}"
    data = content.encode() if isinstance(content, str) else content
    if data is not None:
        blobs.put(key, data)
    inp = CatalogImportInput(
        import_id=import_id,
        blob_key=key,
        file_format=fmt,  # type: ignore[arg-type]
        filename=f"products.{fmt}",
        size_bytes=len(data or b""),
        **kw,  # type: ignore[arg-type]
    )
    handle = await client.start_workflow(
        CatalogImportWorkflow.run, inp, id=workflow_id_for(import_id), task_queue=task_queue
    )
    return import_id, await handle.result(), handle.first_execution_run_id or ""


def catalog(rows: int) -> str:
    lines = ["sku,name,cost,price"]
    lines += [f"S-{i:04d},Product {i},{i % 50 + 1}.25,{i % 50 + 9}.99" for i in range(rows)]
    lines += ["S-0003,Again,1,2", "S-BAD,Broken,-4,2"]  # a duplicate and a negative cost
    return "\n".join(lines) + "\n"


async def test_import_runs_in_batches_across_continue_as_new(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    blobs: LocalBlobStore,
    sqlite_engine: sa.Engine,
) -> None:
    client = temporal_env.client
    import_id, result, first_run_id = await run_import(
        client, task_queue, blobs, catalog(20), batch_size=3, max_batches_per_run=2
    )
    assert result.status == "completed", result.error
    assert result.total_rows == 22
    c = result.counts
    assert (c.processed_rows, c.valid_rows, c.invalid_rows, c.inserted, c.updated, c.unchanged) == (
        22,
        20,
        2,
        20,
        0,
        0,
    )

    handle = client.get_workflow_handle(workflow_id_for(import_id))
    first_run = await client.get_workflow_handle(handle.id, run_id=first_run_id).describe()
    assert first_run.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    last_run = await handle.describe()
    assert last_run.status == WorkflowExecutionStatus.COMPLETED and last_run.run_id != first_run.run_id
    progress = await handle.query(CatalogImportWorkflow.progress)
    assert progress.phase == "completed" and progress.counts.inserted == 20 and progress.batches_done == 8

    with sqlite_engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, inserted, invalid_rows, finished_at FROM catalog_import")
        ).one()
        skus = conn.execute(sa.text("SELECT count(DISTINCT sku), count(*) FROM product")).one()
    assert (row.status, row.inserted, row.invalid_rows) == ("completed", 20, 2) and row.finished_at
    assert tuple(skus) == (20, 20)


async def test_json_lines_import(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    blobs: LocalBlobStore,
    sqlite_engine: sa.Engine,
) -> None:
    content = (
        '{"sku": "J-1", "name": "Jay", "cost": 12.99, "attributes": {"a": 1}, "image_refs": ["x.png"]}\n'
        "\n"
        '{"sku": "J-2", "name": "Kay", "cost": "3", "upc": "036000291453"}\n'
        '{"sku": "J-3", "name": "Ell", "cost": 1, "colour": "red"}\n'
    )
    _, result, _ = await run_import(temporal_env.client, task_queue, blobs, content, "jsonl", batch_size=2)
    assert result.status == "completed"
    assert (result.counts.inserted, result.counts.invalid_rows) == (2, 1)
    with sqlite_engine.connect() as conn:
        issues = conn.execute(sa.text("SELECT row_number, field, code FROM catalog_import_issue")).all()
        cost = conn.execute(sa.text("SELECT cost FROM product WHERE sku = 'J-1'")).scalar_one()
    assert {tuple(i) for i in issues} == {(3, "upc", "invalid_value"), (0, "colour", "unknown_column")}
    assert str(cost).startswith("12.99")


async def test_a_file_without_required_columns_fails_with_a_report(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    blobs: LocalBlobStore,
    sqlite_engine: sa.Engine,
) -> None:
    _, result, _ = await run_import(temporal_env.client, task_queue, blobs, "sku,title\nA,Alpha\n")
    assert result.status == "failed"
    assert result.error is not None and "'name'" in result.error and "'cost'" in result.error
    with sqlite_engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status, error FROM catalog_import")).one()
        fields = conn.execute(
            sa.text("SELECT field FROM catalog_import_issue WHERE row_number = 0")
        ).scalars()
        assert set(fields) >= {"name", "cost"}
        products = conn.execute(sa.text("SELECT count(*) FROM product")).scalar_one()
    assert status.status == "failed" and "cost" in status.error
    assert products == 0


async def test_unreadable_or_missing_files_fail_cleanly(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, blobs: LocalBlobStore
) -> None:
    # the API refuses such files; a workflow started by another client must still end with a clear message
    _, result, _ = await run_import(
        temporal_env.client, task_queue, blobs, "sku,name,cost\nA,Caf\u00e9,1\n".encode("latin-1")
    )
    assert result.status == "failed" and "not valid UTF-8 at byte 19" in (result.error or "")
    _, result, _ = await run_import(temporal_env.client, task_queue, blobs, None)
    assert result.status == "failed" and "missing from the blob store" in (result.error or "")
