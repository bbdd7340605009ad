"""Fixtures of the stock integration tests: the whole stack (sandboxes, API, worker, Temporal dev server) per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from tests.stock.harness import MARKETPLACES, Stack, open_stack

# Restrict the marketplaces under test (e.g. while one sandbox is being reworked): "ebay,woocommerce"
ENABLED = tuple(
    mp for mp in os.environ.get("MERCHFLOW_TEST_STOCK_MARKETPLACES", ",".join(MARKETPLACES)).split(",") if mp
)

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def marketplaces() -> tuple[str, ...]:
    return ENABLED


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


def _factory(tmp_path: Path, url: str, env: WorkflowEnvironment) -> StackFactory:
    def make(**kw: Any) -> AbstractAsyncContextManager[Stack]:
        kw.setdefault("marketplaces", ENABLED)
        return open_stack(tmp_path / "data", db_url=url, client=env.client, **kw)

    return make


@pytest.fixture
async def stack_any_db(
    tmp_path: Path, db_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[StackFactory]:
    """Runs the test on SQLite and on PostgreSQL."""
    yield _factory(tmp_path, db_url, temporal_env)


@pytest.fixture
async def stack_sqlite(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[StackFactory]:
    yield _factory(tmp_path, sqlite_url, temporal_env)
