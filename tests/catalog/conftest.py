"""Catalog-import fixtures: API settings on a private task queue, and a worker for them built in the test."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.catalog.activities import CatalogActivities
from connectors.blobs.local import LocalBlobStore
from merchflow.db.engine import make_engine
from merchflow.settings import Settings, TemporalSettings
from tests.conftest import make_token
from workers.deps import Deps
from workers.registry import activity_callables
from workflows.catalog.contract import TASK_QUEUE as MAIN_QUEUE
from workflows.catalog.imports import CatalogImportWorkflow


@pytest.fixture
def api_settings(tmp_path: Path, db_url: str) -> Settings:
    """Overrides the shared fixture: a unique task queue per test, so no other test's worker takes our work,
    and small batches so a test file spans several of them."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=db_url,  # type: ignore[arg-type]
        seed_demo=False,
        catalog_import_batch_size=3,
        max_upload_bytes=64 * 1024,
        temporal=TemporalSettings(task_queue_prefix=f"cat-{uuid.uuid4().hex[:10]}"),
    )


@asynccontextmanager
async def running_worker(settings: Settings, client: Client) -> AsyncIterator[Worker]:
    """A worker for the catalog workflow on the queue the API starts it on."""
    engine = make_engine(settings.sqlalchemy_url)
    deps = Deps(settings=settings, engine=engine, blobs=LocalBlobStore(settings.blob_dir))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        worker = Worker(
            client,
            task_queue=settings.task_queue(MAIN_QUEUE),
            workflows=[CatalogImportWorkflow],
            activities=activity_callables(CatalogActivities(deps)),
            activity_executor=pool,
        )
        async with worker:
            yield worker
    engine.dispose()


@pytest.fixture
async def catalog_worker(api_settings: Settings, temporal_env: WorkflowEnvironment) -> AsyncIterator[Worker]:
    async with running_worker(api_settings, temporal_env.client) as worker:
        yield worker


@pytest.fixture
def operator(api_client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(api_client.app.state.engine, 'operator')}"}  # type: ignore[attr-defined]


@pytest.fixture
def viewer(api_client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(api_client.app.state.engine, 'viewer')}"}  # type: ignore[attr-defined]
