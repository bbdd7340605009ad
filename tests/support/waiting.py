"""Wait for a condition with a deadline, never for a fixed time: a loaded machine only makes the wait longer."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    check: Callable[[], T | Awaitable[T]], *, timeout: float = 30.0, every: float = 0.05, what: str = ""
) -> T:
    """Call `check` (sync or async) until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {what or check!r}; last value {value!r}"[:2000])
        await asyncio.sleep(every)
