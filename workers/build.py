"""Worker construction, one per task queue, and the long-running `merchflow worker` entry point."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
from collections.abc import Iterable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from merchflow.blobs import FileBlobStore
from merchflow.db.engine import engine_for
from merchflow.logging import get_logger
from merchflow.settings import Settings
from workers.deps import Deps
from workers.registry import activity_callables, queues

log = get_logger(__name__)


def build_deps(settings: Settings) -> Deps:
    deps = Deps(
        settings=settings, engine=engine_for(settings.sqlalchemy_url), blobs=FileBlobStore(settings.blob_dir)
    )
    for wire in _service_wirers():
        wire(deps)
    return deps


def _service_wirers() -> list[Any]:
    """Features that need external services register a `wire(deps)` function here."""
    return []


def build_workers(
    client: Client,
    deps: Deps,
    *,
    only: Iterable[str] | None = None,
    executor: concurrent.futures.ThreadPoolExecutor | None = None,
    task_queue_override: str | None = None,
) -> list[Worker]:
    executor = executor or concurrent.futures.ThreadPoolExecutor(
        max_workers=16, thread_name_prefix="activity"
    )
    wanted = set(only) if only else None
    workers = []
    for queue, (workflows, activity_classes) in queues().items():
        if wanted is not None and queue not in wanted:
            continue
        activities = [fn for cls in activity_classes for fn in activity_callables(cls(deps))]
        workers.append(
            Worker(
                client,
                task_queue=task_queue_override or deps.settings.task_queue(queue),
                workflows=workflows,
                activities=activities,
                activity_executor=executor,
                max_concurrent_activities=64,
            )
        )
    return workers


async def run_workers(settings: Settings, only: Iterable[str] | None = None) -> None:
    from merchflow.temporal import connect

    client = await connect(settings)
    deps = build_deps(settings)
    workers = build_workers(client, deps, only=only)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queues=[w.task_queue for w in workers], temporal=settings.temporal_target)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for t in done:
        if t is not stopper and t.exception():
            log.error("worker crashed", error=str(t.exception()))
    log.info("worker shutting down")
    # Graceful: in-flight activities get their shutdown grace; workflows resume elsewhere from history.
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    deps.engine.dispose()
