"""Listing sync at scale: the real path (listing-sync workflow in a `merchflow worker` process, batches of listings
read and linked by activities, continue-as-new, a Temporal dev server on a SQLite file) next to the floor (the same
list_catalog reads through the same adapter, the same staging, matching and link writes, in a plain asyncio script),
in one run, on one marketplace sandbox in its own process.

    .venv/bin/python benchmarks/listing_sync.py --listings 100000
    .venv/bin/python benchmarks/listing_sync.py --listings 100000 --rate-limits
    .venv/bin/python benchmarks/listing_sync.py --listings 20000 --marketplace shopify

The store mixes listings matched by SKU (40 %), by GTIN under another SKU (30 %), conflicting (5 %) and unmatched
(25 %); both runs must give the same, exact report. Between the runs the account's listings and links are wiped, so
the real run does the same work. With --rate-limits the sandbox enforces its published limits and the adapter keeps
to them; the bound is computed from the floor's calls per rate-limit bucket (max over buckets of
(calls - burst) / rate), and fraction_of_bound = bound / real seconds (1.0: as fast as the limits allow).
Targets: limits off, ratio = real / floor <= 1.3; limits on, fraction_of_bound >= 0.9. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.listings.activities import read_and_link, settle_collisions
from activities.listings.repository import CH, LINK
from activities.listings.runs import mark_gone, report
from benchmarks.reconcile import CountingLimiter, cpu_used
from benchmarks.stock_stack import Processes, bench_settings
from connectors.marketplace.accounts import account_config
from connectors.marketplace.factory import build_marketplace
from merchflow.db.engine import make_engine, read_session
from merchflow.db.migrate import upgrade
from merchflow.db.models import MarketplaceAccount
from merchflow.db.types import utcnow
from merchflow.logging import configure_logging
from merchflow.settings import Settings
from tests.listings.store import Mix, listings, seed_catalog
from tests.stock.harness import seed_master

BATCH = 2000  # listings per batch, as settings.listing_sync.batch_listings


def mix_for(n: int) -> Mix:
    by_sku, by_gtin, conflicts = n * 40 // 100, n * 30 // 100, n * 5 // 100
    return Mix(by_sku=by_sku, by_gtin=by_gtin, conflicts=conflicts, unmatched=n - by_sku - by_gtin - conflicts,
               extra_products=n * 5 // 100)  # fmt: skip


async def floor(
    settings: Settings, engine: sa.Engine, account_id: int
) -> tuple[float, CountingLimiter, dict[str, int]]:
    """The same reads, staging, matching and link writes as the workflow's activities (the same read_and_link,
    batch after batch), in one plain loop: what the work costs without Temporal."""
    limiter = CountingLimiter(enabled=settings.marketplace_rate_limits)
    with read_session(engine) as s:
        row = s.get(MarketplaceAccount, account_id)
    adapter = build_marketplace(account_config(row, settings), limiter)  # type: ignore[arg-type]
    run_id, started_at = f"floor-{uuid.uuid4().hex[:8]}", utcnow()
    started = time.perf_counter()
    cursor, first = None, True
    while first or cursor is not None:
        read = await read_and_link(
            adapter, engine, account_id, run_id, cursor=cursor, first=first, limit=BATCH
        )
        cursor, first = read.cursor, False
    await asyncio.to_thread(settle_collisions, engine, account_id)

    def close() -> dict[str, int]:
        with engine.begin() as conn:
            mark_gone(conn, account_id=account_id, run_id=run_id)
            return report(conn, account_id=account_id, run_id=run_id, started_at=started_at).model_dump()

    result = await asyncio.to_thread(close)
    seconds = time.perf_counter() - started
    await adapter.aclose()
    return seconds, limiter, result


def wipe(engine: sa.Engine, account_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(LINK).where(LINK.c.account_id == account_id))
        conn.execute(sa.delete(CH).where(CH.c.account_id == account_id))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    mp = args.marketplace
    mix = mix_for(args.listings)
    expected = mix.expected_report()
    work = Path(tempfile.mkdtemp(prefix="bench-listing-sync-"))
    settings = bench_settings(work, [mp], db_url=args.postgres_url, rate_limits=args.rate_limits,
                              listing_sync={"batch_listings": BATCH})  # fmt: skip
    procs = Processes(work)
    out: dict[str, Any] = {"listings": args.listings, "marketplace": mp, "rate_limits": args.rate_limits}
    try:
        t = time.perf_counter()
        procs.temporal(settings)
        procs.sandboxes(settings, [mp])
        upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        account_id = seed_master(engine, {}, [mp])[mp]
        seed_catalog(engine, mix)
        async with httpx.AsyncClient(timeout=600) as http:
            items = listings(mix)
            for i in range(0, len(items), 20000):
                body = {"listings": items[i : i + 20000], "replace": i == 0}
                (
                    await http.post(settings.sandbox.base_url(mp) + "/_sandbox/seed", json=body)
                ).raise_for_status()
            await http.put(settings.sandbox.base_url(mp) + "/_sandbox/webhooks", json={"url": None})
        print(f"set up in {time.perf_counter() - t:.1f}s: {args.listings} listings on {mp}", flush=True)

        procs.worker(settings, [mp])
        from merchflow.temporal import connect
        from workflows.listings.contract import ListingSyncInput, sync_workflow_id
        from workflows.listings.sync import ListingSyncWorkflow

        client = await connect(settings)
        floors: list[float] = []
        reals: list[float] = []
        for n in range(args.rounds):  # alternating, so neither side always runs on a cold or a warm store
            wipe(engine, account_id)
            cpu0, self0 = procs.cpu(), time.process_time()
            floor_s, limiter, floor_report = await floor(settings, engine, account_id)
            out["floor_cpu"] = cpu_used(cpu0, procs.cpu()) | {
                "floor-script": round(time.process_time() - self0, 1)
            }
            floors.append(floor_s)
            print(f"round {n + 1} floor: {floor_s:.2f}s", flush=True)
            wipe(engine, account_id)
            cpu0 = procs.cpu()
            started = time.perf_counter()
            result = await client.execute_workflow(
                ListingSyncWorkflow.run,
                ListingSyncInput(
                    account_id=account_id,
                    batch_listings=BATCH,
                    batches_per_run=settings.listing_sync.batches_per_run,
                ),
                id=f"{sync_workflow_id(account_id)}-bench-{n}",
                task_queue=settings.task_queue("main"),
            )
            reals.append(time.perf_counter() - started)
            out["real_cpu"] = cpu_used(cpu0, procs.cpu())
            print(f"round {n + 1} real: {reals[-1]:.2f}s ({result.status})", flush=True)
        floor_s, real_s = statistics.median(floors), statistics.median(reals)
        real_report = result.report.model_dump()
        out |= {
            "floor_seconds": round(floor_s, 2),
            "real_seconds": round(real_s, 2),
            "ratio": round(real_s / floor_s, 3),
            "rounds": [
                {"floor": round(f, 2), "real": round(r, 2)} for f, r in zip(floors, reals, strict=True)
            ],
            "floor_report_exact": floor_report == expected,
            "real_status": result.status,
            "real_report_exact": real_report == expected,
            "report": real_report,
        }
        # the bound: what the published limits allow for the floor's calls (none without limits)
        bound = limiter.bound_seconds() if args.rate_limits else 0.0
        out |= {
            "bound_seconds": round(bound, 2) if bound else None,
            "fraction_of_bound": round(bound / real_s, 3) if bound else None,
            "floor_fraction_of_bound": round(bound / floor_s, 3) if bound else None,
            "buckets": limiter.per_bucket() if args.rate_limits else {},
        }
        if args.rate_limits:
            out["targets_met"] = {"fraction_of_bound>=0.9": bool(bound) and bound / real_s >= 0.9}
        else:
            out["targets_met"] = {"ratio<=1.3": real_s / floor_s <= 1.3}
        engine.dispose()
        return out
    finally:
        procs.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listings", type=int, default=100_000)
    p.add_argument(
        "--marketplace", default="woocommerce", choices=("woocommerce", "shopify", "ebay", "amazon")
    )
    p.add_argument(
        "--rate-limits",
        action="store_true",
        help="the sandbox enforces, the adapter keeps to published limits",
    )
    p.add_argument("--postgres-url", help="master database (default: a SQLite file, like merchflow up)")
    p.add_argument("--rounds", type=int, default=2, help="floor / real pairs, alternating; medians reported")
    configure_logging("WARNING", json=False)
    out = asyncio.run(run(p.parse_args()))
    print(
        f"CPU seconds during the floor: {out['floor_cpu']}\nCPU seconds during the real run: {out['real_cpu']}"
    )
    print(f"floor {out['floor_seconds']}s, real {out['real_seconds']}s, ratio {out['ratio']}, bound {out['bound_seconds']}s,"
          f" fraction_of_bound {out['fraction_of_bound']}, reports exact: floor {out['floor_report_exact']}, "
          f"real {out['real_report_exact']}")  # fmt: skip
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (see GUIDE.md)


if __name__ == "__main__":
    main()
