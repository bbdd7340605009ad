"""An API on a migrated database holding the demo catalog (four marketplace accounts named `sandbox`, products,
stock), talking to the session's real Temporal dev server on task queues of its own (no worker polls them: started
workflows just wait)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from merchflow.db.engine import make_engine
from merchflow.db.migrate import upgrade
from merchflow.seed import seed_demo
from merchflow.settings import Settings, TemporalSettings
from tests.conftest import make_token


@dataclass
class Stack:
    app: FastAPI
    settings: Settings
    admin: str  # an admin's API token
    viewer: str


def build_stack(data_dir: Path, temporal_target: str) -> Stack:
    from api.app import create_app

    url = f"sqlite:///{data_dir / 'app.db'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=url,  # type: ignore[arg-type]
        seed_demo=False,
        temporal=TemporalSettings(
            address=temporal_target, task_queue_prefix=f"apitest-{uuid.uuid4().hex[:8]}"
        ),
    )
    engine = make_engine(url)
    seed_demo(engine)
    admin, viewer = make_token(engine, "admin"), make_token(engine, "viewer")
    engine.dispose()
    # no client handed in: the app connects lazily, on the event loop that serves it
    return Stack(app=create_app(settings), settings=settings, admin=admin, viewer=viewer)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, temporal_env: WorkflowEnvironment) -> Iterator[Stack]:
    target = temporal_env.client.service_client.config.target_host
    s = build_stack(tmp_path_factory.mktemp("api"), target)
    yield s
    s.app.state.engine.dispose()
