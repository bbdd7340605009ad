"""Fixtures of the repricing tests: the whole stack (sandboxes, API, worker, Temporal dev server) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from tests.repricing.harness import Item, RepriceStack, open_stack

StackFactory = Callable[..., AbstractAsyncContextManager[RepriceStack]]


def scenario_catalog() -> dict[str, Item]:
    """SKUs built to trip each rule: the expected direction of every price is known."""
    return {
        "RP-AGED": Item(stock=40, age_days=200, sold=28),  # > 180 days old: markdown
        "RP-COMP": Item(stock=40, competitor="38.50", sold=14),  # a cheaper competitor: beat it
        "RP-HIGH": Item(stock=450, sold=56),  # high stock: markdown
        "RP-LOW": Item(stock=2, sold=7),  # low stock: markup
        "RP-STEADY": Item(price="39.99", stock=50, sold=14),  # no rule applies: holds
    }


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


def _factory(tmp_path: Path, url: str, env: WorkflowEnvironment) -> StackFactory:
    def make(**kw: Any) -> AbstractAsyncContextManager[RepriceStack]:
        kw.setdefault("catalog", scenario_catalog())
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
