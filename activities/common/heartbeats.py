"""Heartbeats for long activities, shared by every process's pushes and batches."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

from temporalio import activity


def heartbeat(details: object = None) -> None:
    """Heartbeat when running as an activity (the same code also runs in benchmarks and plain scripts)."""
    if activity.in_activity():
        activity.heartbeat(*(() if details is None else (details,)))


def throttled(every: float = 1.0) -> Callable[[object], None]:
    """`heartbeat` for callbacks a bulk call fires per request answered (thousands in a push): each heartbeat is a
    payload conversion and a call into the SDK core, so only the latest details go out, at most once per `every`
    seconds (the server sees no more anyway; kept_alive() covers the silences between)."""
    last = -every

    def beat(details: object = None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every:
            last = now
            heartbeat(details)

    return beat


def beat_every(default: float = 5.0) -> float:
    """Heartbeat a few times per heartbeat timeout, whatever the workflow chose."""
    timeout = activity.info().heartbeat_timeout if activity.in_activity() else None
    return max(0.5, timeout.total_seconds() / 4) if timeout else default


@contextlib.asynccontextmanager
async def kept_alive(every: float | None = None) -> AsyncIterator[None]:
    """Heartbeat while the body runs, whatever it waits on (a rate-limit bucket, a feed being processed): the
    heartbeat timeout then detects a dead worker in seconds without ever failing a slow but live activity."""
    if not activity.in_activity():
        yield
        return
    interval = every if every is not None else 5.0

    async def tick() -> None:
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()


@contextlib.contextmanager
def kept_alive_in_thread(every: float | None = None) -> Iterator[None]:
    """`kept_alive` for sync activities, whose body blocks the thread it runs on: a side thread heartbeats
    until the body returns, so a worker that dies mid-body is noticed within the heartbeat timeout instead of
    the start-to-close timeout. The side thread runs in a copy of the activity's context (the SDK finds the
    running activity through a context variable; its heartbeat is safe to call from another thread)."""
    if not activity.in_activity():
        yield
        return
    interval = every if every is not None else beat_every()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(interval):
            activity.heartbeat()

    beater = threading.Thread(target=contextvars.copy_context().run, args=(tick,), daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()
