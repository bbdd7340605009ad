"""Worker construction, one per task queue, and the long-running `merchflow worker` entry point."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
from collections.abc import Iterable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from connectors.blobs.factory import build_blob_store
from merchflow.db.engine import engine_for
from merchflow.features import Feature, resolve
from merchflow.logging import get_logger
from merchflow.settings import Settings
from workers.deps import Deps
from workers.registry import FEATURES, activity_callables, queues

log = get_logger(__name__)

CONNECT_TIMEOUT = 120.0
# Sync activities each hold a pool thread while they run; the pool is as large as the slots so none waits.
MAX_CONCURRENT_ACTIVITIES = 64
# A stop waits this long for the workers to shut down. When the Temporal server went away first (`up` was
# killed outright), Temporal Core keeps retrying its polls for ~30 s before shutdown returns; nothing is
# lost by leaving earlier: unfinished activities time out and are retried by another worker.
SHUTDOWN_TIMEOUT = 8.0


def build_deps(settings: Settings, features: list[Feature] | None = None) -> Deps:
    deps = Deps(
        settings=settings, engine=engine_for(settings.sqlalchemy_url), blobs=build_blob_store(settings)
    )
    for wire in _service_wirers():
        wire(deps)
    deps.decision_handlers = decision_handlers(deps, FEATURES if features is None else features)
    return deps


def decision_handlers(deps: Deps, features: list[Feature]) -> dict[str, Any]:
    """Each feature's action per decision type it proposes; two features claiming one type is a wiring bug."""
    handlers: dict[str, Any] = {}
    for f in features:
        for decision_type, ref in f.action_handlers.items():
            if decision_type in handlers:
                raise ValueError(f"decision type {decision_type!r} has two action handlers")
            handlers[decision_type] = resolve(ref)(deps)
    return handlers


def _wire_marketplaces(deps: Deps) -> None:
    from activities.accounts.health import AccountHealth
    from connectors.marketplace.accounts import MarketplaceRegistry

    # refused credentials mark the account "needs re-auth" and notify, in whichever worker hears it first
    health = AccountHealth(deps.engine, deps.settings)
    deps.services["marketplaces"] = MarketplaceRegistry(deps.engine, deps.settings, listener=health)


def _service_wirers() -> list[Any]:
    """Features that need external services register a `wire(deps)` function here."""
    from activities.arbitrage.services import wire_arbitrage  # offer sources, payments, market data
    from activities.ops.account_health import wire_account_health  # marketplace account alerts

    return [_wire_marketplaces, wire_account_health, wire_arbitrage]


def build_workers(
    client: Client,
    deps: Deps,
    *,
    only: Iterable[str] | None = None,
    executor: concurrent.futures.ThreadPoolExecutor | None = None,
    task_queue_override: str | None = None,
) -> list[Worker]:
    executor = executor or concurrent.futures.ThreadPoolExecutor(
        max_workers=MAX_CONCURRENT_ACTIVITIES, thread_name_prefix="activity"
    )
    wanted = set(only) if only else None
    registered = queues()
    if wanted is not None and wanted - registered.keys():
        raise ValueError(
            f"unknown task queue(s) {sorted(wanted - registered.keys())}; known: {sorted(registered)}"
        )
    workers = []
    for queue, (workflows, activity_classes) in registered.items():
        if wanted is not None and queue not in wanted:
            continue
        activities = [fn for cls in activity_classes for fn in activity_callables(cls(deps))]
        if not workflows and not activities:
            # Temporal refuses a worker with nothing to run; a queue whose features are still empty is skipped.
            log.info("task queue has no workflows or activities; no worker for it", task_queue=queue)
            continue
        workers.append(
            Worker(
                client,
                task_queue=task_queue_override or deps.settings.task_queue(queue),
                workflows=workflows,
                activities=activities,
                activity_executor=executor,
                max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
            )
        )
    return workers


async def run_workers(settings: Settings, only: Iterable[str] | None = None) -> int:
    """Run until SIGINT / SIGTERM. Returns the process exit code: 0 after a requested stop, 1 on a crash."""
    from merchflow.logging import configure_temporal_logging
    from merchflow.telemetry.endpoint import start_worker_telemetry
    from merchflow.temporal import wait_for_temporal

    telemetry = start_worker_telemetry(settings)  # /metrics (+ the SDK's), tracing when configured
    configure_temporal_logging(metrics=telemetry.sdk_config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # A cluster that is briefly unreachable at start (restarting, network) should not kill the worker.
    connecting = asyncio.create_task(wait_for_temporal(settings, timeout=CONNECT_TIMEOUT))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([connecting, stopper], return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        return 0
    if connecting.exception():
        log.error(
            "cannot reach Temporal", temporal=settings.temporal_target, error=str(connecting.exception())
        )
        return 1
    client = connecting.result()
    deps = build_deps(settings)
    workers = build_workers(client, deps, only=only)
    if not workers:
        log.warning("no workflows or activities registered; the worker idles until stopped")
    log.info("worker started", task_queues=[w.task_queue for w in workers], temporal=settings.temporal_target)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    crashed = [t for t in done if t is not stopper and (t.exception() or not stopper.done())]
    for t in crashed:
        log.error("worker stopped unexpectedly", error=repr(t.exception()))
    log.info("worker shutting down")
    # Graceful: in-flight activities get their shutdown grace; workflows resume elsewhere from history.
    shutting = [asyncio.create_task(w.shutdown()) for w in workers]
    if shutting:
        _, pending = await asyncio.wait(shutting, timeout=SHUTDOWN_TIMEOUT)
        if pending:
            log.warning("worker shutdown still waiting; leaving anyway", timeout_s=SHUTDOWN_TIMEOUT)
    deps.engine.dispose()
    telemetry.stop()
    return 1 if crashed else 0
