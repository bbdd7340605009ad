"""Fixtures of the decision tests: a migrated SQLite database with demo products, a worker factory for the
decision workflows on a random task queue, and proposal builders."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions.activities import DecisionActivities
from activities.decisions.tables import DecisionPolicyRow
from connectors.blobs.local import LocalBlobStore
from domain.decisions.rules import Proposal
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.settings import Settings
from workers.build import decision_handlers
from workers.deps import Deps
from workers.registry import FEATURES, activity_callables, feature

WORKFLOWS = feature("decisions").workflow_classes()


@pytest.fixture
async def ts_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The shared time-skipping server with the DecisionStatus search attribute registered (the decision
    workflow keeps it current; an unknown attribute would fail its workflow tasks)."""
    # a flag on the server's environment itself: ids of collected objects are reused by later ones
    if not getattr(time_skipping_env, "_decision_status_registered", False):
        try:
            await time_skipping_env.client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=time_skipping_env.client.namespace,
                    search_attributes={"DecisionStatus": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
                )
            )
        except Exception as exc:  # registered by an earlier test module
            if "already" not in str(exc).lower():
                raise
        time_skipping_env._decision_status_registered = True  # type: ignore[attr-defined]
    return time_skipping_env


@pytest.fixture
def dec_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'dec.db'}",  # type: ignore[arg-type]
        seed_demo=False,
    )


@pytest.fixture
def dec_engine(dec_settings: Settings) -> Iterator[sa.Engine]:
    upgrade(dec_settings.sqlalchemy_url)
    eng = make_engine(dec_settings.sqlalchemy_url)
    yield eng
    eng.dispose()


@pytest.fixture
def deps(dec_settings: Settings, dec_engine: sa.Engine) -> Deps:
    return with_handlers(
        Deps(settings=dec_settings, engine=dec_engine, blobs=LocalBlobStore(dec_settings.blob_dir))
    )


def with_handlers(deps: Deps) -> Deps:
    """The decision actions every feature registers, as the worker's composition root wires them."""
    deps.decision_handlers = decision_handlers(deps, FEATURES)
    return deps


_executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="dec-test")


def make_worker(client: Client, deps: Deps, task_queue: str, *, sticky: bool = True) -> Worker:
    """`sticky=False` for a worker that will be stopped mid-workflow: the time-skipping server does not
    redirect tasks from a dead worker's sticky queue the way a real cluster does after its timeout."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activity_callables(DecisionActivities(deps)),
        activity_executor=_executor,
        **({} if sticky else {"max_cached_workflows": 0}),
    )


def add_product(engine: sa.Engine, sku: str, price: str = "20.00", cost: str = "8.00") -> None:
    with session_scope(engine) as s:
        s.add(Product(sku=sku, name=f"Product {sku}", cost=Decimal(cost), price=Decimal(price)))


def set_policy(engine: sa.Engine, decision_type: str, **kw: Any) -> None:
    row = DecisionPolicyRow(
        decision_type=decision_type,
        mode=kw.get("mode", "semi-auto"),
        threshold=kw.get("threshold", 0.85),
        guardrails=kw.get("guardrails", {}),
        timeout_hours=kw.get("timeout_hours", 72.0),
        on_timeout=kw.get("on_timeout", "expire"),
        escalation_groups=kw.get("escalation_groups", ["approver", "admin"]),
    )
    with session_scope(engine) as s:
        s.merge(row)


def price_proposal(
    sku: str, current: str = "20.00", proposed: str = "19.00", confidence: float = 0.7
) -> Proposal:
    return Proposal(
        decision_type="price_change",
        subject=sku,
        marketplace="amazon",
        current={"price": current, "cost": "8.00"},
        proposed={"price": proposed},
        confidence=confidence,
        reasoning="two competitors undercut us by 5%",
        factors=[{"name": "competitor_min", "value": "18.99"}],
        evidence=[{"kind": "competitor_price", "label": "Shop A", "value": "18.99"}],
    )


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- API on both databases, real Temporal
@pytest.fixture
def api_env_settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=db_url,  # type: ignore[arg-type]
        seed_demo=False,
        temporal={"task_queue_prefix": f"dec-{uuid.uuid4().hex[:8]}"},  # type: ignore[arg-type]
    )


@pytest.fixture
async def dec_api(api_env_settings: Settings, temporal_env: WorkflowEnvironment):  # type: ignore[no-untyped-def]
    """(httpx client on the app, engine, settings) with a decision worker on the app's main task queue."""
    import httpx

    from api.app import create_app

    app = create_app(api_env_settings, temporal_client=temporal_env.client)
    engine = app.state.engine
    worker_deps = with_handlers(
        Deps(settings=api_env_settings, engine=engine, blobs=LocalBlobStore(api_env_settings.blob_dir))
    )
    worker = make_worker(temporal_env.client, worker_deps, api_env_settings.task_queue("main"))
    async with worker:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client, engine, api_env_settings
    engine.dispose()
