"""Fixtures of the web tests that decide for real: a SQLite database, a worker running the decision
workflows registered in workers/registry.py on a random task queue, and helpers that start decisions."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions.tables import Decision
from connectors.blobs.local import LocalBlobStore
from domain.decisions.rules import Proposal
from merchflow.db.engine import make_engine, read_session, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.settings import Settings
from workers import registry
from workers.build import decision_handlers
from workers.deps import Deps
from workers.registry import activity_callables
from workflows.decisions.contract import DecisionInput, decision_workflow_id

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="web-test")


@pytest.fixture
def flow_settings(tmp_path: Path) -> Settings:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'web.db'}",  # type: ignore[arg-type]
        seed_demo=False,
    )
    upgrade(settings.sqlalchemy_url)
    return settings


@pytest.fixture
def flow_engine(flow_settings: Settings) -> Any:
    eng = make_engine(flow_settings.sqlalchemy_url)
    yield eng
    eng.dispose()


def decision_worker(client: Client, deps: Deps, task_queue: str) -> Worker:
    """The decisions feature exactly as workers/registry.py registers it, on the test's own queue."""
    feature = registry.feature("decisions")
    return Worker(
        client,
        task_queue=task_queue,
        workflows=feature.workflow_classes(),
        activities=[fn for cls in feature.activity_classes() for fn in activity_callables(cls(deps))],
        activity_executor=_executor,
        max_concurrent_activities=8,
    )


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment, flow_settings: Settings, flow_engine: sa.Engine, task_queue: str
) -> AsyncIterator[Worker]:
    deps = Deps(settings=flow_settings, engine=flow_engine, blobs=LocalBlobStore(flow_settings.blob_dir))
    deps.decision_handlers = decision_handlers(deps, registry.FEATURES)
    async with decision_worker(temporal_env.client, deps, task_queue) as w:
        yield w


@pytest.fixture
async def flow_client(
    temporal_env: WorkflowEnvironment, flow_settings: Settings, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(flow_settings, temporal_client=temporal_env.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    app.state.engine.dispose()


def add_product(engine: sa.Engine, sku: str, price: str = "20.00") -> None:
    with session_scope(engine) as s:
        s.add(Product(sku=sku, name=f"Product {sku}", cost=Decimal("8.00"), price=Decimal(price)))


def price_proposal(
    sku: str,
    *,
    current: str = "20.00",
    proposed: str = "18.50",
    confidence: float = 0.7,
    marketplace: str = "amazon",
) -> Proposal:
    return Proposal(
        decision_type="price_change",
        subject=sku,
        marketplace=marketplace,
        current={"price": current},
        proposed={"price": proposed},
        confidence=confidence,
        reasoning=f"Two competitors undercut {sku} by 7%.",
        factors=[{"name": "competitor_min", "value": "18.99", "weight": 0.7}],
        evidence=[{"kind": "competitor_price", "label": "Shop A", "value": "18.99"}],
    )


def priced(engine: sa.Engine, sku: str, *, marketplace: str = "amazon", proposed: str = "18.50") -> Proposal:
    """A product priced 20.00 and a price change for it (a decision type that really executes)."""
    add_product(engine, sku)
    return price_proposal(sku, marketplace=marketplace, proposed=proposed)


async def wait_for_status(
    engine: sa.Engine, decision_id: str, statuses: set[str], timeout: float = 30.0
) -> Decision:
    """Polls the row the workflow keeps current (the workflow records through activities)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with read_session(engine) as session:
            row = session.get(Decision, decision_id)
        if row is not None and row.status in statuses:
            return row
        if loop.time() > deadline:
            raise AssertionError(f"{decision_id} is {row.status if row else 'missing'}, wanted {statuses}")
        await asyncio.sleep(0.05)


async def start_decision(
    client: Client, engine: sa.Engine, task_queue: str, decision_id: str, proposal: Proposal
) -> None:
    await client.start_workflow(
        "decision",
        DecisionInput(decision_id=decision_id, proposal=proposal, notify=False),
        id=decision_workflow_id(decision_id),
        task_queue=task_queue,
    )
    await wait_for_status(engine, decision_id, {"pending"})


async def workflow_result(client: Client, decision_id: str) -> Any:
    from workflows.decisions.contract import DecisionResult

    handle = client.get_workflow_handle(decision_workflow_id(decision_id), result_type=DecisionResult)
    return await asyncio.wait_for(handle.result(), 30)


# ---------------------------------------------------------------- browser tests
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from tests.conftest import IN_CI

    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); browser tests skipped")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def live_url(
    temporal_env: WorkflowEnvironment, flow_settings: Settings, worker: Worker
) -> AsyncIterator[str]:
    """The real app under uvicorn on a free port, in the test's event loop (beside the worker)."""
    import uvicorn

    from api.app import create_app
    from merchflow.temporal import free_port

    port = free_port()
    flow_settings.api_port = port
    app = create_app(flow_settings, temporal_client=temporal_env.client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 15)
