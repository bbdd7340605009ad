"""Full stock reconciliation at scale: the real path (ReconcileWorkflow -> a child per account -> batch activities in a
`merchflow worker` process, Temporal dev server on a SQLite file) next to the floor (the same listing reads, the same
pure diff, the same corrections through the same adapters, in a plain asyncio script), in one run.

    .venv/bin/python benchmarks/reconcile.py --skus 100000 --marketplaces 3 --drift 0.05
    .venv/bin/python benchmarks/reconcile.py --skus 3000 --marketplaces 3 --drift 0.05 --rate-limits

Each sandbox runs in its own process with a fresh database, re-seeded identically (same drifted SKUs) before each of
the two runs. With --rate-limits the sandboxes enforce their published limits and the adapters keep to them; the
bound is computed from the floor's calls per rate-limit bucket (max over buckets of (calls - burst) / rate).
Targets (limits off): real <= 60 s wall, real <= 1.3 x floor. The last line is one JSON object.

`--codec` / `--metrics`: the same run with every Temporal payload encrypted / with the metrics endpoints on and
scraped every second; compare the ratio with and without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.stock.repository import publish_targets
from activities.stock.tables import DriftReportRow
from benchmarks.stock_stack import (
    PREFERRED,
    Processes,
    add_ops_flags,
    bench_settings,
    ops_env,
    scrape_metrics,
    seed_sandbox,
)
from connectors.marketplace.accounts import account_config
from connectors.marketplace.factory import build_marketplace
from connectors.marketplace.types import QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry, TokenBucket
from domain.stock.rules import reconcile_diff
from merchflow.db.engine import make_engine, read_session
from merchflow.db.migrate import upgrade
from merchflow.db.models import MarketplaceAccount
from merchflow.logging import configure_logging
from merchflow.settings import Settings
from tests.stock.harness import seed_master

SLICE = 1000  # as activities/stock/reconcile.py


class CountingLimiter(RateLimiterRegistry):
    """Counts what every bucket was asked for, to state the bound the published limits put on the same calls."""

    def __init__(self, *, enabled: bool) -> None:
        super().__init__(enabled=enabled)
        self.spent: dict[tuple[str, str, str], float] = {}
        self.limits: dict[tuple[str, str, str], tuple[float, float]] = {}

    def bucket(
        self, marketplace: str, account: str, operation: str, *, rate: float, burst: float
    ) -> TokenBucket:
        b = super().bucket(marketplace, account, operation, rate=rate, burst=burst)
        key = (marketplace, account, operation)
        if key not in self.limits:
            self.limits[key] = (rate, burst)
            acquire = b.acquire

            async def counted(cost: float = 1.0) -> float:
                self.spent[key] = self.spent.get(key, 0.0) + cost
                return await acquire(cost)

            b.acquire = counted  # type: ignore[method-assign]
        return b

    def per_bucket(self) -> dict[str, dict[str, float]]:
        out = {}
        for key, spent in self.spent.items():
            rate, burst = self.limits[key]
            seconds = max(0.0, spent - burst) / rate if rate > 0 and not math.isinf(rate) else 0.0
            out[":".join(key)] = {"spent": spent, "rate": rate, "burst": burst, "seconds": round(seconds, 2)}
        return out

    def bound_seconds(self) -> float:
        return max((b["seconds"] for b in self.per_bucket().values()), default=0.0)


def drift_plan(
    skus: list[str], stock: dict[str, int], mps: list[str], drift: float
) -> dict[str, dict[str, int]]:
    rng = random.Random(42)
    plan = {}
    for mp in mps:
        quantities = dict(stock)
        for sku in rng.sample(skus, int(len(skus) * drift)):
            quantities[sku] = max(0, stock[sku] + rng.choice([-3, -2, -1, 1, 2, 3, 5]))
            if quantities[sku] == stock[sku]:
                quantities[sku] += 1
        plan[mp] = quantities
    return plan


async def floor(settings: Settings, engine: sa.Engine, batch_size: int) -> tuple[float, CountingLimiter, int]:
    """The same work without Temporal or the database writes: per account, page through the listings, diff each
    slice against the master, send the corrections in the background while reading on."""
    limiter = CountingLimiter(enabled=settings.marketplace_rate_limits)
    with read_session(engine) as s:
        rows = s.exec(sa.select(MarketplaceAccount).order_by(MarketplaceAccount.id)).scalars().all()  # type: ignore[call-overload]
    adapters = [build_marketplace(account_config(r, settings), limiter) for r in rows]
    sent = 0

    async def one(row: MarketplaceAccount, adapter: Any) -> None:
        nonlocal sent

        def master() -> dict[str, int]:
            with read_session(engine) as s:
                skus = [x[0] for x in s.execute(sa.text("SELECT sku FROM stock_level"))]
                return {t.sku: t.quantity for t in publish_targets(s, skus, account_id=row.id)}

        expected = await asyncio.to_thread(master)
        cursor, buffer, writes, n = None, [], [], 0
        slice_size = min(batch_size, max(SLICE, adapter.max_batch))
        while True:
            page = await adapter.list_listings(cursor)
            cursor = page.next_cursor
            buffer += page.items
            if len(buffer) >= slice_size or cursor is None:
                found = {i.sku: i.quantity for i in buffer}
                diff = reconcile_diff(
                    {s: expected[s] for s in found if s in expected}, found, listed=found.keys()
                )
                updates = [
                    QuantityUpdate(sku=d.sku, quantity=d.expected or 0, expected_quantity=d.found)
                    for d in diff
                    if d.action == "set"
                ]
                if updates:
                    sent += len(updates)
                    writes.append(
                        asyncio.create_task(adapter.set_quantities(updates, idempotency_key=f"floor:{n}"))
                    )
                buffer, n = [], n + 1
            if cursor is None:
                break
        await asyncio.gather(*writes)

    started = time.perf_counter()
    await asyncio.gather(*(one(r, a) for r, a in zip(rows, adapters, strict=True)))
    seconds = time.perf_counter() - started
    for a in adapters:
        await a.aclose()
    return seconds, limiter, sent


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(v - before.get(k, 0.0), 1) for k, v in after.items() if v - before.get(k, 0.0) >= 0.05}


async def mismatches(
    http: httpx.AsyncClient, settings: Settings, mps: list[str], stock: dict[str, int]
) -> int:
    bad = 0
    for mp in mps:
        body = (
            await http.get(settings.sandbox.base_url(mp) + "/_sandbox/listings", params={"limit": 1_000_000})
        ).json()
        rows = body["listings"] if isinstance(body, dict) else body
        bad += sum(1 for r in rows if r.get("quantity") != stock.get(r["sku"]))
    return bad


async def run(args: argparse.Namespace) -> dict[str, Any]:
    mps = list(args.names.split(",") if args.names else PREFERRED[: args.marketplaces])
    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    settings = bench_settings(work, mps, db_url=args.postgres_url, rate_limits=args.rate_limits)
    procs = Processes(work, ops_env(args, settings))
    stop_scrape = asyncio.Event()
    scraper: asyncio.Task[int] | None = None
    out: dict[str, Any] = {
        "skus": args.skus,
        "marketplaces": mps,
        "drift": args.drift,
        "rate_limits": args.rate_limits,
        "codec": args.codec,
        "metrics": args.metrics,
    }
    try:
        t = time.perf_counter()
        procs.temporal(settings)
        procs.sandboxes(settings, mps)
        upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        skus = [f"SKU-{i:07d}" for i in range(args.skus)]
        stock = {s: 5 + i % 40 for i, s in enumerate(skus)}
        seed_master(engine, stock, mps)
        plan = drift_plan(skus, stock, mps, args.drift)
        print(f"set up in {time.perf_counter() - t:.1f}s: {args.skus} SKUs x {mps}", flush=True)

        async with httpx.AsyncClient(timeout=600) as http:

            async def reseed() -> None:
                await asyncio.gather(
                    *(seed_sandbox(http, settings.sandbox.base_url(mp), plan[mp]) for mp in mps)
                )

            await reseed()
            cpu0, self0 = procs.cpu(), time.process_time()
            floor_s, limiter, sent = await floor(settings, engine, args.batch_size)
            out["floor_cpu"] = cpu_used(cpu0, procs.cpu()) | {
                "floor-script": round(time.process_time() - self0, 1)
            }
            out |= {"floor_seconds": round(floor_s, 2), "floor_corrections": sent}
            out["floor_mismatches_after"] = await mismatches(http, settings, mps, stock)
            print(f"floor: {floor_s:.2f}s ({sent} corrections)", flush=True)

            await reseed()
            for n in range(args.workers):
                procs.worker(settings, mps, name=f"worker-{n}")
            from merchflow.temporal import connect
            from workflows.stock.contract import ReconcileInput
            from workflows.stock.reconcile import ReconcileWorkflow

            client = await connect(settings)
            if args.metrics:
                scraper = asyncio.create_task(scrape_metrics(settings, stop_scrape))
            cpu0 = procs.cpu()
            started = time.perf_counter()
            result = await client.execute_workflow(
                ReconcileWorkflow.run,
                ReconcileInput(batch_size=args.batch_size),
                id=f"bench-reconcile-{uuid.uuid4().hex[:8]}",
                task_queue=settings.task_queue("main"),
            )
            real_s = time.perf_counter() - started
            stop_scrape.set()
            if scraper is not None:
                out["metrics_scrapes"] = await scraper
            out["real_cpu"] = cpu_used(cpu0, procs.cpu())
            print(f"real: {real_s:.2f}s", flush=True)
            with read_session(engine) as s:
                corrected = s.execute(
                    sa.select(sa.func.count())
                    .select_from(DriftReportRow)
                    .where(DriftReportRow.outcome == "applied")
                ).scalar_one()
            out |= {
                "real_seconds": round(real_s, 2),
                "ratio": round(real_s / floor_s, 3),
                "real_corrected": int(corrected),
                "runs": [r.model_dump() for r in result.runs],
                "real_mismatches_after": await mismatches(http, settings, mps, stock),
            }
        if args.rate_limits:
            bound = limiter.bound_seconds()
            out |= {
                "bound_seconds": round(bound, 2),
                "real_vs_bound": round(real_s / bound, 3) if bound else None,
                "buckets": limiter.per_bucket(),
            }
        else:
            out["targets_met"] = {"wall<=60s": real_s <= 60, "ratio<=1.3": real_s / floor_s <= 1.3}
        engine.dispose()
        return out
    finally:
        procs.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skus", type=int, default=100_000)
    p.add_argument("--marketplaces", type=int, default=3, choices=range(1, 5))
    p.add_argument(
        "--names", help="comma-separated marketplaces (default: the fastest N: " + ",".join(PREFERRED) + ")"
    )
    p.add_argument("--drift", type=float, default=0.05)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (each uses one core at most)")
    p.add_argument(
        "--rate-limits", action="store_true", help="sandboxes enforce, adapters keep to published limits"
    )
    p.add_argument("--postgres-url", help="master database (default: a SQLite file, like merchflow up)")
    add_ops_flags(p)
    configure_logging("WARNING", json=False)
    out = asyncio.run(run(p.parse_args()))
    runs = out.pop("runs")
    for r in runs:
        print(
            f"  account {r['account_id']}: {r['status']}, checked {r['checked']}, drifted {r['drifted']}, "
            f"corrected {r['corrected']}, failed {r['failed']}, batches {r['batches']}"
        )
    print(
        f"CPU seconds during the floor: {out['floor_cpu']}\nCPU seconds during the real run: {out['real_cpu']}"
    )
    print(
        f"floor {out['floor_seconds']}s, real {out['real_seconds']}s, ratio {out['ratio']}"
        + (f", bound {out['bound_seconds']}s" if "bound_seconds" in out else "")
    )
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (see GUIDE.md)


if __name__ == "__main__":
    main()
