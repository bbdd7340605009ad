"""The dashboard page for a catalogue of 100,000 SKUs: server time of `GET /dashboard` as a logged-in viewer.

    .venv/bin/python benchmarks/dashboard.py [--skus 100000] [--sales-days 60] [--requests 100]
                                             [--postgres-url URL]

Seeds the catalogue straight into a migrated database (products, stock, receipts, daily sales lines, a stored
30-day forecast per SKU: tests/forecasting/seeding.py), runs the nightly analytics refresh once (the precompute the
page reads: aging, top / worst, projection with their SVG charts), then starts `merchflow api` as a subprocess and
times, over HTTP on localhost, the page with its default SKU (the top seller) and the page for random SKUs (each a
chart drawn for that request: the worst case, no chart cache hit). Target: p95 <= 2 s for each. The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activities.analytics.refresh import refresh_all
from benchmarks.stack_start import spawn, wait_ready
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.temporal import free_port
from merchflow.users import create_user
from tests.forecasting.seeding import seed_catalogue

PASSWORD = "benchmark-password"
TARGET_MS = 2000.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 95), 1),
            "max_ms": round(max(ms), 1)}  # fmt: skip


async def measure(base: str, skus: list[str], requests: int) -> dict[str, dict[str, float]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        page = await http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await http.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        assert r.status_code in (200, 303), r.status_code
        first = await http.get("/dashboard")  # warm-up: imports, connection pool, the default SKU's chart
        assert first.status_code == 200 and 'data-testid="aging"' in first.text, first.status_code
        out: dict[str, list[float]] = {"default": [], "random_sku": []}
        picks = random.Random(7).sample(skus, requests)
        for i in range(requests):  # one request at a time: the page's own time, not a queue's
            for name, path in (("default", "/dashboard"), ("random_sku", f"/dashboard?sku={picks[i]}")):
                t0 = time.perf_counter()
                r = await http.get(path)
                out[name].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and "img" in r.text, (path, r.status_code)
                if name == "random_sku":
                    assert picks[i] in r.text, path
    return {k: summary(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--sales-days", type=int, default=60)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--postgres-url", help="use this (empty) database instead of SQLite; migrated here")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="merchflow-bench-dashboard-"))
    data = work / "data"
    data.mkdir(parents=True)
    db_url = args.postgres_url or f"sqlite:///{data / 'bench.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    today = datetime.now(UTC).date()
    t0 = time.perf_counter()
    skus = seed_catalogue(engine, skus=args.skus, today=today, sales_days=args.sales_days, seed=11)
    seeded = time.perf_counter() - t0
    t0 = time.perf_counter()
    snapshots, _ = refresh_all(
        engine, run_id="bench", today=today, window_days=30, segments=4, beat=lambda _: None
    )
    refreshed = time.perf_counter() - t0
    with session_scope(engine) as s:
        create_user(s, username="bench", password=PASSWORD, role="viewer")
    engine.dispose()

    api_port = free_port()
    env = {
        **os.environ,
        "MERCHFLOW_ENVIRONMENT": "test",
        "MERCHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # not needed by the page: nothing listens
        "MERCHFLOW_DATABASE_URL": db_url,
        "MERCHFLOW_DATA_DIR": str(data),
        "MERCHFLOW_API_PORT": str(api_port),
        "MERCHFLOW_SEED_DEMO": "false",
        "MERCHFLOW_LOG_LEVEL": "WARNING",
    }
    proc = spawn(["api"], env, work / "api.log")
    try:
        base = f"http://127.0.0.1:{api_port}"
        wait_ready(f"{base}/healthz", [proc])
        figures = asyncio.run(measure(base, skus, min(args.requests, len(skus))))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    worst = max(f["p95_ms"] for f in figures.values())
    result = {
        "benchmark": "dashboard",
        "skus": args.skus,
        "sales_days": args.sales_days,
        "database": "postgresql" if args.postgres_url else "sqlite",
        "page_default_p95_ms": figures["default"]["p95_ms"],
        "page_default_p50_ms": figures["default"]["p50_ms"],
        "page_random_sku_p95_ms": figures["random_sku"]["p95_ms"],
        "page_random_sku_p50_ms": figures["random_sku"]["p50_ms"],
        "requests": figures["default"]["n"],
        "target_ms": TARGET_MS,
        "target_met": worst <= TARGET_MS,
        "nightly_refresh_seconds": round(refreshed, 1),
        "snapshots": snapshots,
        "seed_seconds": round(seeded, 1),
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "work_dir": str(work),
    }
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
