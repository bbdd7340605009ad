"""Plumbing shared by the benchmarks/bulk/<marketplace>.py modules: the sandbox in its own process, seeding,
alternating adapter/floor rounds, the standard result dict and the `python -m benchmarks.bulk.<mp> [n] [on|off]` CLI.

What each module measures (its floor, its adapter set-up, its bound) stays in that module.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import structlog

from merchflow.logging import configure_logging

SEED_CHUNK = 25_000  # listings per /_sandbox/seed request: keeps each request body reasonable

Configure = Callable[[httpx.AsyncClient, str], Awaitable[None]]
Round = Callable[[int], Awaitable[float]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sandbox_env(data_dir: str, rate_limits: bool) -> dict[str, str]:
    """Settings for a sandbox that reads MERCHFLOW_* variables: its own data dir, quiet logs."""
    return {
        **os.environ,
        "MERCHFLOW_DATA_DIR": data_dir,
        "MERCHFLOW_ENVIRONMENT": "test",
        "MERCHFLOW_SANDBOX__RATE_LIMITS": "true" if rate_limits else "false",
        "MERCHFLOW_LOG_LEVEL": "WARNING",
    }


async def disable_webhooks(c: httpx.AsyncClient, url: str) -> None:
    # no engine listens for the 100k product.updated webhooks a run would cause
    (await c.put(f"{url}/_sandbox/webhooks", json={"url": None})).raise_for_status()


async def start_sandbox(
    module: str,
    data_dir: str,
    rate_limits: bool,
    configure: Configure | None = None,
    *,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m <module> --port P <extra_args>` (env: sandbox_env unless given, cwd: data_dir unless given),
    polled until /_sandbox/health answers, then `configure(client, url)` if given. Returns (process, base url).

    The sandbox runs in its own process so that client and server do not share a GIL."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--port",
        str(port),
        *extra_args,
        env=dict(env) if env is not None else sandbox_env(data_dir, rate_limits),
        cwd=cwd or data_dir,
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            try:
                if (await c.get(f"{url}/_sandbox/health")).status_code == 200:
                    if configure is not None:
                        await configure(c, url)
                    return proc, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"sandbox {module} did not start")


async def stop_sandbox(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await proc.wait()


@asynccontextmanager
async def running_sandbox(
    module: str,
    rate_limits: bool,
    *,
    prefix: str,
    configure: Configure | None = None,
    extra_args: Callable[[str], Sequence[str]] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> AsyncIterator[str]:
    """A sandbox on a fresh temp data dir for the block; yields its base url. extra_args gets the data dir."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        args = extra_args(data_dir) if extra_args else ()
        proc, url = await start_sandbox(
            module, data_dir, rate_limits, configure, extra_args=args, env=env, cwd=cwd
        )
        try:
            yield url
        finally:
            await stop_sandbox(proc)


def quiet_logging() -> None:
    if not structlog.is_configured():
        configure_logging("WARNING")  # per-request debug lines would be measured too


def default_rounds(rounds: int | None, rate_limits: bool) -> int:
    return rounds or (1 if rate_limits else 3)  # limited runs are paced by the bound, not by CPU noise


def bench_skus(n: int) -> list[str]:
    return [f"BENCH-{i:07d}" for i in range(n)]


async def seed_listings(c: httpx.AsyncClient, skus: Sequence[str]) -> None:
    for i in range(0, len(skus), SEED_CHUNK):
        listings = [{"sku": s, "title": s, "price": "9.99", "quantity": 1} for s in skus[i : i + SEED_CHUNK]]
        (await c.post("/_sandbox/seed", json={"listings": listings})).raise_for_status()


async def alternate(rounds: int, adapter_run: Round, floor_run: Round) -> tuple[list[float], list[float]]:
    """Rounds alternate adapter and floor (each gets the round number, to send new quantities so every update is
    a real change); every time is kept and the caller counts the best: the machine is shared, and a burst of
    someone else's work should not decide it."""
    adapter_runs: list[float] = []
    floor_runs: list[float] = []
    for r in range(rounds):
        adapter_runs.append(await adapter_run(r))
        floor_runs.append(await floor_run(r))
    return adapter_runs, floor_runs


def standard_result(
    marketplace: str,
    n: int,
    adapter_runs: Sequence[float],
    floor_runs: Sequence[float],
    *,
    all_runs: bool = True,
) -> dict[str, Any]:
    """The standard result: best adapter and floor times, SKUs/s, ratio (floor / adapter, 1.0 = as fast as bare
    httpx); with all_runs, also the round count and every time."""
    adapter_s, floor_s = min(adapter_runs), min(floor_runs)
    out: dict[str, Any] = {
        "marketplace": marketplace,
        "n": n,
        "adapter_seconds": round(adapter_s, 3),
        "adapter_skus_per_s": round(n / adapter_s, 1),
        "floor_seconds": round(floor_s, 3),
        "floor_skus_per_s": round(n / floor_s, 1),
        "ratio": round(floor_s / adapter_s, 3),
    }
    if all_runs:
        out["rounds"] = len(adapter_runs)
        out["adapter_seconds_all"] = [round(x, 3) for x in adapter_runs]
        out["floor_seconds_all"] = [round(x, 3) for x in floor_runs]
    return out


def main(
    name: str,
    bench: Callable[[int, bool], Awaitable[dict[str, Any]]],
    default_runs: Sequence[tuple[int, bool]],
    argv: Sequence[str] | None = None,
) -> None:
    """`[n] [on|off]`: one run; no arguments: default_runs, the last line one JSON object {name: [results]}."""
    argv = sys.argv[1:] if argv is None else argv

    async def run() -> None:
        if argv:
            runs = [(int(argv[0]), len(argv) > 1 and argv[1].lower() in ("on", "true", "1"))]
        else:
            runs = list(default_runs)
        results = [await bench(n, limited) for n, limited in runs]
        for r in results[:-1]:
            print(json.dumps(r))
        print(json.dumps(results[-1] if len(results) == 1 else {name: results}))

    asyncio.run(run())
