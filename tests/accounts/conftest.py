"""Fixtures of the accounts tests: the real stack (sandboxes and the API on real ports, a worker, the Temporal dev
server), with no account of its own beyond the harness's; tests add theirs through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from tests.stock.harness import Stack, open_stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


def _factory(tmp_path: Path, url: str, env: WorkflowEnvironment) -> StackFactory:
    def make(**kw: Any) -> AbstractAsyncContextManager[Stack]:
        kw.setdefault("stock", {})
        kw.setdefault("relay", False)
        return open_stack(tmp_path / "data", db_url=url, client=env.client, **kw)

    return make


@pytest.fixture
async def stack_any_db(
    tmp_path: Path, db_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[StackFactory]:
    yield _factory(tmp_path, db_url, temporal_env)


@pytest.fixture
async def stack_sqlite(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[StackFactory]:
    yield _factory(tmp_path, sqlite_url, temporal_env)
