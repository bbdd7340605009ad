"""Shared plumbing of the stock benchmarks (reconcile.py, order_sync.py): a Temporal dev server on a SQLite file
(like `merchflow up`), each sandbox marketplace in its own process, the master database, worker processes."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr

from merchflow.settings import Settings
from merchflow.temporal import DevServer, free_port, wait_for_port
from tests.stock.harness import listing_payload, settings_env

# Fastest first: Amazon's searchListingsItems returns 20 listings per page (the SP-API maximum).
PREFERRED = ("ebay", "woocommerce", "shopify", "amazon")

SANDBOX_MAIN = (
    "import sys, uvicorn\n"
    "from merchflow.settings import Settings\n"
    "from sandboxes.run import load_app\n"
    "mp = sys.argv[1]; s = Settings()\n"
    "uvicorn.run(load_app(mp, s), host='127.0.0.1', port=s.sandbox.port(mp), log_level='warning',"
    " access_log=False)\n"
)


def bench_settings(
    work: Path, marketplaces: Iterable[str], *, db_url: str | None, rate_limits: bool, **extra: Any
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=work,
        database_url=db_url or f"sqlite:///{work / 'merchflow.db'}",  # type: ignore[arg-type]
        seed_demo=False,
        schedules_enabled=False,
        api_port=free_port(),
        temporal={
            "address": f"127.0.0.1:{free_port()}",
            "task_queue_prefix": f"bench-{uuid.uuid4().hex[:6]}",
        },
        sandbox={f"{mp}_port": free_port() for mp in marketplaces} | {"rate_limits": rate_limits},
        marketplace_rate_limits=rate_limits,
        log_level="INFO",
        **extra,
    )


class Processes:
    """Child processes of one benchmark run; all stopped on exit."""

    def __init__(self, work: Path, extra_env: dict[str, str] | None = None) -> None:
        self.work = work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.names: dict[int, str] = {}
        self.extra_env = extra_env or {}  # for the API and the workers: codec / metrics on or off

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("ab")
        p = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        self.names[p.pid] = name
        return p

    def temporal(self, settings: Settings) -> None:
        host, port = settings.temporal_target.split(":")
        server = DevServer(
            self.work / "temporal.db", host=host, port=int(port), ui_port=free_port(), headless=True
        )
        self.spawn("temporal", server.command(), dict(os.environ))
        wait_for_port(host, int(port), 60)

    def sandboxes(self, settings: Settings, marketplaces: Iterable[str]) -> None:
        mps = list(marketplaces)
        env = settings_env(settings, mps) | {
            "MERCHFLOW_SANDBOX__RATE_LIMITS": str(settings.sandbox.rate_limits).lower()
        }
        if settings.sandbox.webhook_base_url:
            env["MERCHFLOW_SANDBOX__WEBHOOK_BASE_URL"] = settings.sandbox.webhook_base_url
        for mp in mps:
            self.spawn(f"sandbox-{mp}", [sys.executable, "-c", SANDBOX_MAIN, mp], env)
        for mp in mps:
            wait_for_port("127.0.0.1", settings.sandbox.port(mp), 60)

    def worker(
        self, settings: Settings, marketplaces: Iterable[str], name: str = "worker"
    ) -> subprocess.Popen[bytes]:
        env = settings_env(settings, marketplaces) | {"MERCHFLOW_LOG_LEVEL": "INFO"} | self.extra_env
        p = self.spawn(name, [sys.executable, "-m", "merchflow", "worker", "--queue", "main"], env)
        log = self.work / f"{name}.log"
        deadline = time.monotonic() + 120
        while b"worker started" not in log.read_bytes():
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {log}")
            time.sleep(0.2)
        return p

    def api(self, settings: Settings, marketplaces: Iterable[str]) -> str:
        env = (
            settings_env(settings, marketplaces)
            | {
                "MERCHFLOW_API_PORT": str(settings.api_port),
                "MERCHFLOW_SCHEDULES_ENABLED": "false",
            }
            | self.extra_env
        )
        self.spawn("api", [sys.executable, "-m", "merchflow", "api"], env)
        url = f"http://127.0.0.1:{settings.api_port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code < 500:
                    return url
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API did not start")
            time.sleep(0.3)

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each live child process (by log name)."""
        import psutil

        out = {}
        for p in self.procs:
            try:
                t = psutil.Process(p.pid).cpu_times()
            except psutil.Error:
                continue
            out[self.names[p.pid]] = t.user + t.system
        return out

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


async def seed_sandbox(
    http: httpx.AsyncClient, base_url: str, quantities: dict[str, int], *, webhooks: bool = False
) -> None:
    """Replace the sandbox's catalog with these listings (20,000 per request)."""
    items = list(quantities.items())
    for i in range(0, len(items), 20000):
        body = {"listings": [listing_payload(s, q) for s, q in items[i : i + 20000]], "replace": i == 0}
        (await http.post(base_url + "/_sandbox/seed", json=body)).raise_for_status()
    if not webhooks:
        (await http.put(base_url + "/_sandbox/webhooks", json={"url": None})).raise_for_status()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))] if s else float("nan")


# ---------------------------------------------------------------- codec / metrics cost
def add_ops_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--codec", action="store_true", help="encrypt every Temporal payload (AES-GCM payload codec)"
    )
    p.add_argument(
        "--metrics",
        action="store_true",
        help="metrics endpoints on (worker /metrics + the SDK's runtime metrics), scraped every second",
    )


def ops_env(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """Environment of the API and the workers for the flags; also applied to `settings` (the benchmark's client)."""
    env: dict[str, str] = {}
    if args.codec:
        from merchflow.crypto.keyring import new_key_text

        key = new_key_text()
        env["MERCHFLOW_CODEC__KEYS__BENCH"] = key
        settings.codec.keys = {"bench": SecretStr(key)}
    settings.metrics.enabled = bool(args.metrics)
    env["MERCHFLOW_METRICS__ENABLED"] = str(bool(args.metrics)).lower()
    if args.metrics:
        settings.metrics.worker_port = free_port()
        env["MERCHFLOW_METRICS__WORKER_PORT"] = str(settings.metrics.worker_port)
    return env


async def scrape_metrics(settings: Settings, stop: asyncio.Event, every: float = 1.0) -> int:
    """What Prometheus would do (every second instead of 15 s): returns the number of scrapes that answered."""
    m = settings.metrics
    urls = [f"http://127.0.0.1:{settings.api_port}/metrics"]
    urls += [f"http://127.0.0.1:{m.worker_port + i}/metrics" for i in range(m.worker_port_span)]
    ok = 0
    async with httpx.AsyncClient(timeout=5) as http:
        while not stop.is_set():
            for url in urls:
                try:
                    ok += (await http.get(url)).status_code == 200
                except httpx.HTTPError:
                    pass
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
    return ok
