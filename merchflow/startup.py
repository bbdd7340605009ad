"""What `merchflow up` does besides Temporal, the worker and the API.

- Steps run in order once Temporal answers and before any child starts: the platform's (migrations, demo
  catalog, first admin, Temporal Schedules), then each feature's `startup_steps` in registry order. A step is
  `step(settings) -> None` (or a coroutine function).
- `CHILDREN` return extra processes started before the worker and the API (the sandbox marketplaces the
  worker talks to): `children(settings) -> list[ChildSpec]`.
- `LINKS` return lines for the start-up banner: `links(settings) -> list[tuple[label, url]]`.

Entries are callables or "module:function" strings; strings are imported only when `up` runs, so a
feature's heavy imports never slow down the other CLI commands.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    """A process `up` supervises. Children stop in descending `tier` order: the worker and the API
    (tier 2) before the services they call (tier 1, e.g. sandboxes), Temporal (tier 0) last."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()  # checked free before anything starts
    ready_url: str | None = None  # `up` waits for a 2xx here before starting the next child
    tier: int = 1
    log_to_file: bool = False  # chatty third-party output goes to <data_dir>/logs/<name>.log


Entry = str | Callable[..., Any]


def merchflow_argv(*args: str) -> list[str]:
    """argv for a `merchflow` sub-command run with this interpreter (works without the console script)."""
    return [sys.executable, "-m", "merchflow", *args]


# ---------------------------------------------------------------- built-in steps
def migrate_database(settings: Settings) -> None:
    from merchflow.db.migrate import upgrade

    upgrade(settings.sqlalchemy_url)


def seed_demo_data(settings: Settings) -> None:
    if not settings.seed_demo:
        return
    from merchflow.db.engine import engine_for
    from merchflow.seed import seed_demo

    added = seed_demo(engine_for(settings.sqlalchemy_url), sandbox_accounts=settings.sandbox.enabled)
    log.info("demo data ready", products_added=added)


def api_links(settings: Settings) -> list[tuple[str, str]]:
    return [("API", settings.base_url), ("API docs", f"{settings.base_url}/docs")]


# ---------------------------------------------------------------- the platform's entries
PLATFORM_STEPS: list[Entry] = [
    migrate_database,
    seed_demo_data,
    "merchflow.users:first_admin_password",  # web user `admin`
    "merchflow.schedules:ensure_schedules_step",  # every feature's Temporal Schedules
]

CHILDREN: list[Entry] = [
    "sandboxes.run:children",  # the four sandbox marketplaces, when MERCHFLOW_SANDBOX__ENABLED
]

LINKS: list[Entry] = [
    api_links,
    "merchflow.users:web_links",  # the web pages + admin login
    "sandboxes.run:links",  # sandbox marketplaces' inspection docs
    "merchflow.ops_links:links",  # metrics, the codec server for the Temporal UI
]


def steps() -> list[Entry]:
    """The platform's steps, then each feature's start-up steps in registry order."""
    from workers.registry import FEATURES

    return [*PLATFORM_STEPS, *(s for f in FEATURES for s in f.startup_steps)]


def resolve(entry: Entry) -> Callable[..., Any]:
    if callable(entry):
        return entry
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def run_steps(settings: Settings, registry: Sequence[Entry] | None = None) -> None:
    for entry in steps() if registry is None else registry:
        step = resolve(entry)
        log.debug("start-up step", step=getattr(step, "__qualname__", repr(step)))
        result = step(settings)
        if inspect.isawaitable(result):
            asyncio.run(_wait(result))


async def _wait(awaitable: Any) -> Any:
    return await awaitable


def extra_children(settings: Settings, registry: Sequence[Entry] | None = None) -> list[ChildSpec]:
    return [
        spec for entry in (CHILDREN if registry is None else registry) for spec in resolve(entry)(settings)
    ]


def extra_links(settings: Settings, registry: Sequence[Entry] | None = None) -> list[tuple[str, str]]:
    return [link for entry in (LINKS if registry is None else registry) for link in resolve(entry)(settings)]
