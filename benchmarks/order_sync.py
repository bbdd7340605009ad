"""Order sync latency: a customer buys on a sandbox marketplace (POST /_sandbox/orders), the sandbox sends its
signed webhook to `merchflow api`, the order-sync workflow allocates and pushes the new availability to every
listing; measured from webhook receipt (the API's clock, carried in the workflow input) to the workflow's close
(every push applied and recorded - an upper bound of "all other marketplaces updated").

    .venv/bin/python benchmarks/order_sync.py --orders 200 [--rate 4] [--no-rate-limits] [--workers 1]

Real stack like `merchflow up`: Temporal dev server on a SQLite file, each sandbox in its own process (published rate
limits on unless --no-rate-limits), `merchflow api` and `merchflow worker` processes, master on SQLite (or
--postgres-url). Orders arrive open-loop at --rate per second, round-robin over the marketplaces, on a pool of SKUs
small enough that concurrent orders for one SKU happen. Target: p95 <= 2 s. The last line is one JSON object.

Cost of the operators' tooling: `--codec` encrypts every Temporal payload (API, worker and this
script's client), `--metrics` turns the metrics endpoints on (worker /metrics with the SDK's runtime metrics) and
scrapes the API and the worker every second; without `--metrics` they are off. Compare p95 with and without.

Single runs of 200 orders vary by more than the tooling costs (p95 0.37-1.2 s between plain runs), so the cost is
measured with `--compare`: one stack (Temporal, sandboxes, master), and per round the API and worker processes
restarted in each configuration in turn (the order reversed every other round, so a drift of the machine weighs on
both alike), `--orders` measured orders each. The figures are pooled per configuration over the rounds:

    .venv/bin/python benchmarks/order_sync.py --compare plain,codec+metrics --rounds 4 --orders 200
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
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.stock.tables import MarketplaceOrder
from benchmarks.stock_stack import (
    PREFERRED,
    Processes,
    add_ops_flags,
    bench_settings,
    ops_env,
    pct,
    scrape_metrics,
    seed_sandbox,
)
from merchflow.db.engine import make_engine, read_session
from merchflow.db.migrate import upgrade
from merchflow.logging import configure_logging
from tests.stock.harness import master_available, seed_master

WARMUP = 8  # orders before measuring: first connections, access tokens, SKU lookups


async def buy_all(
    http: httpx.AsyncClient, urls: list[str], skus: list[str], n: int, rate: float, prefix: str
) -> list[str]:
    """Open-loop customers: one order every 1/rate s. Returns the refusals (none expected)."""
    refused: list[str] = []

    async def buy(i: int) -> None:
        body = {"sku": skus[i % len(skus)], "quantity": 1, "order_id": f"{prefix}-{i}"}
        r = await http.post(urls[i % len(urls)] + "/_sandbox/orders", json=body)
        if r.status_code not in (200, 201):
            refused.append(r.text[:200])

    tasks = []
    start = time.perf_counter()
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(buy(i)))
    await asyncio.gather(*tasks)
    return refused


async def wait_orders(engine: sa.Engine, n: int, timeout: float = 300) -> list[MarketplaceOrder]:
    deadline = time.monotonic() + timeout
    while True:
        with read_session(engine) as s:
            rows = list(s.exec(sa.select(MarketplaceOrder)).scalars().all())  # type: ignore[call-overload]
        if len(rows) >= n and all(r.status != "received" for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(rows)} of {n} orders recorded after {timeout}s")
        await asyncio.sleep(0.5)


CONFIGS = {
    "plain": (False, False),
    "codec": (True, False),
    "metrics": (False, True),
    "codec+metrics": (True, True),
}
CONFIG_WARMUP = 4  # orders after each restart of the API and worker, not measured


def order_ids(engine: sa.Engine) -> set[str]:
    with read_session(engine) as s:
        return set(s.exec(sa.select(MarketplaceOrder.order_id)).scalars().all())  # type: ignore[call-overload]


async def latencies_of(client: Any, rows: list[MarketplaceOrder]) -> tuple[list[float], dict[str, int]]:
    """Webhook receipt (the API's clock) -> the order-sync workflow's close, per order."""
    from workflows.stock.orders import OrderSyncWorkflow

    latencies, statuses = [], {}
    for r in rows:
        handle = client.get_workflow_handle_for(OrderSyncWorkflow.run, r.workflow_id)
        result = await handle.result()
        closed = (await handle.describe()).close_time
        assert result.received_at is not None and closed is not None
        latencies.append(closed.timestamp() - result.received_at)
        statuses[result.status] = statuses.get(result.status, 0) + 1
        if result.failed:
            statuses["with_failed_pushes"] = statuses.get("with_failed_pushes", 0) + 1
    return latencies, statuses


async def run_compare(args: argparse.Namespace) -> dict[str, Any]:
    """Alternating configurations of the API and worker on one stack; pooled latencies per configuration."""
    from merchflow.temporal import connect

    names = [c.strip() for c in args.compare.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown or not names:
        raise SystemExit(f"--compare takes some of {', '.join(CONFIGS)}; not {unknown}")
    mps = list(args.names.split(",") if args.names else PREFERRED[: args.marketplaces])
    work = Path(tempfile.mkdtemp(prefix="bench-order-sync-"))
    settings = bench_settings(work, mps, db_url=args.postgres_url, rate_limits=not args.no_rate_limits)
    settings.sandbox.webhook_base_url = f"http://127.0.0.1:{settings.api_port}"
    infra = Processes(work)
    pooled: dict[str, list[float]] = {c: [] for c in names}
    rounds: dict[str, list[dict[str, float]]] = {c: [] for c in names}
    scrapes: dict[str, int] = dict.fromkeys(names, 0)
    problems: dict[str, int] = {"refused_by_sandbox": 0, "not_allocated": 0, "with_failed_pushes": 0}
    try:
        infra.temporal(settings)
        infra.sandboxes(settings, mps)
        upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        skus = [f"ORD-{i:04d}" for i in range(args.skus)]
        stock = dict.fromkeys(skus, 1_000_000)
        seed_master(engine, stock, mps)
        urls = [settings.sandbox.base_url(mp) for mp in mps]
        async with httpx.AsyncClient(timeout=120) as http:
            for mp in mps:
                await seed_sandbox(http, settings.sandbox.base_url(mp), stock, webhooks=True)
            for rnd in range(args.rounds):
                for name in names if rnd % 2 == 0 else names[::-1]:
                    codec, metrics = CONFIGS[name]
                    settings.codec.keys = {}
                    flags = argparse.Namespace(codec=codec, metrics=metrics)
                    layer = Processes(work, ops_env(flags, settings))
                    stop_scrape = asyncio.Event()
                    scraper = None
                    try:
                        layer.api(settings, mps)
                        for n in range(args.workers):
                            layer.worker(settings, mps, name=f"worker-{name}-{rnd}-{n}")
                        if metrics:
                            scraper = asyncio.create_task(scrape_metrics(settings, stop_scrape))
                        client = await connect(settings)
                        before = order_ids(engine)
                        assert not await buy_all(http, urls, skus, CONFIG_WARMUP, 2.0, f"w-{name}-{rnd}")
                        await wait_orders(engine, len(before) + CONFIG_WARMUP)
                        warm = order_ids(engine)
                        refused = await buy_all(http, urls, skus, args.orders, args.rate, f"b-{name}-{rnd}")
                        problems["refused_by_sandbox"] += len(refused)
                        want = len(warm) + args.orders - len(refused)
                        rows = [r for r in await wait_orders(engine, want) if r.order_id not in warm]
                        lat, statuses = await latencies_of(client, rows)
                        problems["with_failed_pushes"] += statuses.get("with_failed_pushes", 0)
                        problems["not_allocated"] += sum(
                            v for k, v in statuses.items() if k not in ("allocated", "with_failed_pushes")
                        )
                        stop_scrape.set()
                        if scraper is not None:
                            scrapes[name] += await scraper
                    finally:
                        stop_scrape.set()
                        layer.stop()
                    pooled[name] += lat
                    one = {"p50_s": round(pct(lat, 0.5), 3), "p95_s": round(pct(lat, 0.95), 3)}
                    rounds[name].append(one)
                    print(f"round {rnd + 1} {name}: {len(lat)} orders, p50 {one['p50_s']}s, p95 {one['p95_s']}s",
                          flush=True)  # fmt: skip
        engine.dispose()
    finally:
        infra.stop()
    base = names[0]
    out: dict[str, Any] = {"orders_per_round": args.orders, "rounds": args.rounds, "rate_per_s": args.rate,
                           "marketplaces": mps, "rate_limits": not args.no_rate_limits, "baseline": base}  # fmt: skip
    for name in names:
        lat = pooled[name]
        out[name] = {
            "measured": len(lat),
            "p50_s": round(pct(lat, 0.5), 3),
            "p95_s": round(pct(lat, 0.95), 3),
            "max_s": round(max(lat), 3),
            "round_p95_s": [r["p95_s"] for r in rounds[name]],
            "median_round_p95_s": round(statistics.median(r["p95_s"] for r in rounds[name]), 3),
        }
        if CONFIGS[name][1]:
            out[name]["metrics_scrapes"] = scrapes[name]
        if name != base:
            out[name]["p95_overhead"] = round(pct(lat, 0.95) / pct(pooled[base], 0.95) - 1, 4)
            out[name]["p50_overhead"] = round(pct(lat, 0.5) / pct(pooled[base], 0.5) - 1, 4)
    out |= problems
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    mps = list(args.names.split(",") if args.names else PREFERRED[: args.marketplaces])
    work = Path(tempfile.mkdtemp(prefix="bench-order-sync-"))
    settings = bench_settings(work, mps, db_url=args.postgres_url, rate_limits=not args.no_rate_limits)
    settings.sandbox.webhook_base_url = f"http://127.0.0.1:{settings.api_port}"
    procs = Processes(work, ops_env(args, settings))
    stop_scrape = asyncio.Event()
    scraper: asyncio.Task[int] | None = None
    out: dict[str, Any] = {"orders": args.orders, "marketplaces": mps, "rate_per_s": args.rate}
    out |= {"rate_limits": not args.no_rate_limits, "workers": args.workers}
    out |= {"codec": args.codec, "metrics": args.metrics}
    try:
        procs.temporal(settings)
        procs.sandboxes(settings, mps)
        upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        skus = [f"ORD-{i:04d}" for i in range(args.skus)]
        stock = dict.fromkeys(skus, 100_000)
        seed_master(engine, stock, mps)
        async with httpx.AsyncClient(timeout=120) as http:
            for mp in mps:
                await seed_sandbox(http, settings.sandbox.base_url(mp), stock, webhooks=True)
            procs.api(settings, mps)
            for n in range(args.workers):
                procs.worker(settings, mps, name=f"worker-{n}")
            if args.metrics:
                scraper = asyncio.create_task(scrape_metrics(settings, stop_scrape))
            urls = [settings.sandbox.base_url(mp) for mp in mps]
            assert not await buy_all(http, urls, skus, WARMUP, 2.0, "warmup")
            warm = {r.order_id for r in await wait_orders(engine, WARMUP)}
            print(
                f"warmed up with {WARMUP} orders; {args.orders} orders at {args.rate}/s on {mps}", flush=True
            )
            refused = await buy_all(http, urls, skus, args.orders, args.rate, "bench")
            rows = [r for r in await wait_orders(engine, WARMUP + args.orders) if r.order_id not in warm]
            stop_scrape.set()
            if scraper is not None:
                out["metrics_scrapes"] = await scraper
            from merchflow.temporal import connect

            client = await connect(settings)
            latencies, statuses = await latencies_of(client, rows)
            # every marketplace shows the master's count for every SKU
            want = {mp: master_available(engine, a) for mp, a in accounts_of(engine).items()}
            wrong = 0
            for mp in mps:
                body = (
                    await http.get(
                        settings.sandbox.base_url(mp) + "/_sandbox/listings", params={"limit": 100000}
                    )
                ).json()
                for row in body["listings"] if isinstance(body, dict) else body:
                    wrong += row.get("quantity") != want[mp].get(row["sku"])
        out |= {
            "measured": len(latencies),
            "refused_by_sandbox": len(refused),
            "statuses": statuses,
            "p50_s": round(pct(latencies, 0.5), 3),
            "p95_s": round(pct(latencies, 0.95), 3),
            "max_s": round(max(latencies), 3),
            "listings_not_matching_master": wrong,
            "target_met": pct(latencies, 0.95) <= 2.0,
        }
        engine.dispose()
        return out
    finally:
        procs.stop()


def accounts_of(engine: sa.Engine) -> dict[str, int]:
    with read_session(engine) as s:
        return {mp: i for i, mp in s.execute(sa.text("SELECT id, marketplace FROM marketplace_account"))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orders", type=int, default=200)
    p.add_argument("--rate", type=float, default=4.0, help="orders per second (open loop)")
    p.add_argument("--skus", type=int, default=40, help="SKU pool the orders are spread over")
    p.add_argument("--marketplaces", type=int, default=4, choices=range(2, 5))
    p.add_argument("--names", help="comma-separated marketplaces (default: " + ",".join(PREFERRED) + ")")
    p.add_argument(
        "--no-rate-limits", action="store_true", help="sandboxes and adapters ignore published limits"
    )
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--postgres-url", help="master database (default: a SQLite file, like merchflow up)")
    add_ops_flags(p)
    p.add_argument(
        "--compare",
        help="alternate these configurations of the API and worker on one stack, the first the baseline: "
        "comma-separated of " + ", ".join(CONFIGS),
    )
    p.add_argument("--rounds", type=int, default=4, help="with --compare: rounds of every configuration")
    configure_logging("WARNING", json=False)
    args = p.parse_args()
    if args.compare:
        out = asyncio.run(run_compare(args))
        for name in args.compare.split(","):
            r = out[name.strip()]
            extra = f", p95 overhead {r['p95_overhead']:+.1%}" if "p95_overhead" in r else ""
            print(f"{name.strip()}: {r['measured']} orders, p50 {r['p50_s']}s, p95 {r['p95_s']}s{extra}")
    else:
        out = asyncio.run(run(args))
        print(
            f"webhook -> all listings updated: p50 {out['p50_s']}s, p95 {out['p95_s']}s, max {out['max_s']}s"
        )
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (see GUIDE.md)


if __name__ == "__main__":
    main()
