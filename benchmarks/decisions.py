"""Approver pages under load: 1,000 pending decisions (real `decision` workflows), then the queue page's
server time and the time from an approve POST to the decision workflow's completion.

    .venv/bin/python benchmarks/decisions.py [--decisions 1000] [--page-requests 200] [--approvals 100]
                                             [--postgres-url URL]

Runs the real stack like `merchflow up`: a Temporal dev server on a SQLite file (WAL), `merchflow worker` and
`merchflow api` as subprocesses. Times are measured by this client over HTTP on localhost, so they are an
upper bound of the server time. Targets: queue page p95 <= 100 ms, approve -> completed p95 <= 500 ms.
The last line is one JSON object.
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activities.decisions.tables import Decision
from benchmarks.stack_start import spawn, wait_ready
from domain.decisions.rules import ExpectedEffect, Proposal
from merchflow.db.engine import make_engine, read_session, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.settings import Settings
from merchflow.temporal import DevServer, connect, free_port, wait_for_port
from merchflow.users import create_user
from workflows.decisions.contract import (
    DecisionInput,
    DecisionResult,
    decision_workflow_id,
)

PASSWORD = "benchmark-password"
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
QUEUE_QUERIES = (
    "",
    "?type=price_change",
    "?marketplace=ebay",
    "?min_confidence=0.8&max_confidence=1",
    "?marketplace=shopify&min_confidence=0.5",
    "?older_than_hours=0",
    "?offset=500",
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(pct(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }


def proposal(i: int, rng: random.Random) -> Proposal:
    """Price changes only: the one decision type a feature acts on today (others are refused at proposal time)."""
    market = MARKETPLACES[i % len(MARKETPLACES)]
    confidence = round(rng.uniform(0.3, 0.84), 2)  # below the default threshold: every one waits
    price = Decimal("20.00") + Decimal(i % 50)
    new = (price * Decimal("0.95")).quantize(Decimal("0.01"))
    return Proposal(
        decision_type="price_change",
        subject=f"BENCH-{i:05d}",
        marketplace=market,
        currency="USD",
        current={"price": str(price)},
        proposed={"price": str(new)},
        confidence=confidence,
        reasoning="Two competitors undercut this offer by 6% for three days.",
        factors=[{"name": "competitor_min", "value": str(price - 1), "weight": 0.6, "unit": "money"}],  # type: ignore[list-item]
        evidence=[{"kind": "competitor_price", "label": "Shop A", "value": str(price - 1)}],  # type: ignore[list-item]
        expected_effect=ExpectedEffect(
            margin_delta=str(-(price - new)), revenue_delta="1.20", units_change_pct=8.0
        ),
    )


def seed(db_url: str, count: int, rng: random.Random) -> list[Proposal]:
    proposals = [proposal(i, rng) for i in range(count)]
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        create_user(session, username="bench", password=PASSWORD, role="approver")
        for p in proposals:
            price = Decimal(p.current["price"])
            session.add(Product(sku=p.subject, name=f"Product {p.subject}", cost=Decimal("8"), price=price))
    engine.dispose()
    return proposals


async def create_decisions(settings: Settings, db_url: str, proposals: list[Proposal]) -> float:
    client = await connect(settings)
    gate = asyncio.Semaphore(32)
    queue = settings.task_queue("main")

    async def start(i: int, p: Proposal) -> None:
        async with gate:
            await client.start_workflow(
                "decision",
                DecisionInput(decision_id=f"bench-{i:05d}", proposal=p, notify=False),
                id=decision_workflow_id(f"bench-{i:05d}"),
                task_queue=queue,
            )

    started = time.perf_counter()
    await asyncio.gather(*(start(i, p) for i, p in enumerate(proposals)))
    engine = make_engine(db_url)
    try:
        while True:
            with read_session(engine) as session:
                pending = session.exec(
                    sa.select(sa.func.count()).select_from(Decision).where(Decision.status == "pending")  # type: ignore[arg-type]
                ).one()[0]
            if pending >= len(proposals):
                break
            await asyncio.sleep(0.5)
    finally:
        engine.dispose()
    return time.perf_counter() - started


async def log_in(http: httpx.AsyncClient) -> str:
    page = await http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await http.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"log-in failed: {r.status_code}")
    queue = await http.get("/approvals")
    return re.search(r'name="csrf_token" value="([^"]+)"', queue.text).group(1)  # type: ignore[union-attr]


async def measure_queue(http: httpx.AsyncClient, requests: int) -> list[float]:
    for q in QUEUE_QUERIES:  # warm-up: templates compiled, connections pooled
        (await http.get("/approvals" + q)).raise_for_status()
    times = []
    for n in range(requests):
        t = time.perf_counter()
        r = await http.get("/approvals" + QUEUE_QUERIES[n % len(QUEUE_QUERIES)])
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200 or 'data-testid="pending-total"' not in r.text:
            raise RuntimeError(f"queue page failed: {r.status_code}")
    return times


async def measure_approvals(
    http: httpx.AsyncClient, settings: Settings, csrf: str, ids: list[str]
) -> tuple[list[float], list[float]]:
    client = await connect(settings)
    post_ms, done_ms = [], []
    for decision_id in ids:
        handle = client.get_workflow_handle(decision_workflow_id(decision_id), result_type=DecisionResult)
        t = time.perf_counter()
        r = await http.post(
            f"/approvals/{decision_id}/decide", data={"action": "approve", "version": "1", "csrf_token": csrf}
        )
        posted = time.perf_counter()
        if r.status_code != 303:
            raise RuntimeError(f"approve {decision_id} failed: {r.status_code} {r.text[:300]}")
        result = await handle.result()
        done = time.perf_counter()
        if result.status != "executed":
            raise RuntimeError(f"{decision_id} ended {result.status}: {result.message}")
        post_ms.append((posted - t) * 1000)
        done_ms.append((done - t) * 1000)
    return post_ms, done_ms


async def run(
    args: argparse.Namespace, base: str, settings: Settings, db_url: str, proposals: list[Proposal]
) -> dict[str, Any]:
    created_s = await create_decisions(settings, db_url, proposals)
    print(f"{len(proposals)} pending decision workflows in {created_s:.1f}s "
          f"({len(proposals) / created_s:.0f}/s)", flush=True)  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        csrf = await log_in(http)
        queue = summary(await measure_queue(http, args.page_requests))
        print(f"queue page ({len(proposals)} pending): {queue}", flush=True)
        ids = [f"bench-{i:05d}" for i in range(0, len(proposals), max(1, len(proposals) // args.approvals))]
        post, done = await measure_approvals(http, settings, csrf, ids[: args.approvals])
        post_s, done_s = summary(post), summary(done)
        print(f"approve POST response:       {post_s}", flush=True)
        print(f"approve POST -> completed:   {done_s}", flush=True)
    return {
        "created_s": round(created_s, 1),
        "queue": queue,
        "approve_post": post_s,
        "approve_to_completed": done_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--decisions", type=int, default=1000)
    ap.add_argument("--page-requests", type=int, default=200)
    ap.add_argument("--approvals", type=int, default=100)
    ap.add_argument("--postgres-url", help="use this (empty, migrated here) database instead of SQLite")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="merchflow-bench-decisions-"))
    data = work / "data"
    data.mkdir(parents=True)
    db_url = args.postgres_url or f"sqlite:///{data / 'bench.db'}"
    upgrade(db_url)
    proposals = seed(db_url, args.decisions, random.Random(5))

    tport, api_port = free_port(), free_port()
    server = DevServer(db_file=work / "temporal.db", port=tport, ui_port=free_port(), headless=True)
    procs: list[subprocess.Popen[bytes]] = [server.start(stdout=(work / "temporal.log").open("wb"),
                                                         stderr=subprocess.STDOUT)]  # fmt: skip
    try:
        wait_for_port("127.0.0.1", tport, timeout=60)
        env = {
            **os.environ,
            "MERCHFLOW_ENVIRONMENT": "test",
            "MERCHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{tport}",
            "MERCHFLOW_DATABASE_URL": db_url,
            "MERCHFLOW_DATA_DIR": str(data),
            "MERCHFLOW_API_PORT": str(api_port),
            "MERCHFLOW_SEED_DEMO": "false",
            "MERCHFLOW_LOG_LEVEL": "WARNING",
        }
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            temporal_address=f"127.0.0.1:{tport}",
            database_url=db_url,  # type: ignore[arg-type]
            data_dir=data,
        )
        procs.append(spawn(["worker"], env, work / "worker.log"))
        procs.append(spawn(["api"], env, work / "api.log"))
        base = f"http://127.0.0.1:{api_port}"
        wait_ready(f"{base}/readyz", procs)
        figures = asyncio.run(run(args, base, settings, db_url, proposals))
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    result = {
        "benchmark": "decisions",
        "decisions": args.decisions,
        "database": "postgresql" if args.postgres_url else "sqlite",
        "queue_page_p95_ms": figures["queue"]["p95_ms"],
        "queue_page_p50_ms": figures["queue"]["p50_ms"],
        "approve_post_p95_ms": figures["approve_post"]["p95_ms"],
        "approve_to_completed_p95_ms": figures["approve_to_completed"]["p95_ms"],
        "approve_to_completed_p50_ms": figures["approve_to_completed"]["p50_ms"],
        "targets_met": figures["queue"]["p95_ms"] <= 100 and figures["approve_to_completed"]["p95_ms"] <= 500,
        "create_seconds": figures["created_s"],
        "cpus": os.cpu_count(),
        "work_dir": str(work),
    }
    print(json.dumps(result), flush=True)
    os._exit(0)  # the Temporal SDK can crash in interpreter teardown of short-lived processes


if __name__ == "__main__":
    main()
