"""Benchmark: the nightly repricing run end to end on the four sandboxes, against a plain script as the floor.

    .venv/bin/python -m benchmarks.reprice --skus 100000 [--batch-size 5000] [--keep]

N SKUs spread over the four sandbox accounts (one listing each), rate limits off, the price_change policy at
full-auto with threshold 0 (every change auto-approved and pushed in the same run). Two measurements on the same
data, the sandboxes re-seeded in between:
- floor: a plain script - per account, read the same inputs (activities.repricing.inputs.load_batch), run the same
  engine (activities.repricing.compute.price_batch), push the changes with the same adapters' set_prices, record the
  new prices and pricing history in bulk. No Temporal, no decisions, no proposals.
- run: the `reprice-run` workflow on an in-process worker (Temporal dev server): batches, proposals, bulk decisions,
  set-based execution, pushes per batch with per-item retries, history, summary.
Each sandbox runs in its own process. Amazon's fee estimates are off in both (one call per category, rate-limited).
Target (issue 9): run <= 1.3 x floor at 20,000 and 100,000 SKUs. Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa
from pydantic import SecretStr

from benchmarks.reprice_phases import Row, as_json, cpu_used, floor_row, process_cpu, run_row, table

ROOT = Path(__file__).resolve().parents[1]
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
CATEGORIES = ("Electronics", "Home & Kitchen", "Books", "Sports", "Toys & Games", "Garden", "Accessories")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def catalog(n: int) -> dict[str, Any]:
    """A realistic mix: most SKUs hit a rule (stock, age, a cheaper competitor), some hold their price."""
    from tests.repricing.harness import Item

    rng = np.random.default_rng(6)
    cost = np.round(rng.lognormal(2.3, 0.6, n), 2)
    price = np.round(cost * rng.uniform(1.6, 2.8, n), 2)
    stock = rng.integers(0, 700, n)
    age = rng.integers(0, 400, n)
    comp = np.where(rng.random(n) < 0.3, np.round(price * rng.uniform(0.85, 1.1, n), 2), np.nan)
    cats = rng.choice(CATEGORIES, n)
    return {
        f"B{i:07d}": Item(cost=f"{cost[i]:.2f}", price=f"{price[i]:.2f}", stock=int(stock[i]), age_days=int(age[i]),
                          category=str(cats[i]), competitor=None if np.isnan(comp[i]) else f"{comp[i]:.2f}")
        for i in range(n)
    }  # fmt: skip


@contextlib.contextmanager
def sandboxes(data_dir: Path, ports: dict[str, int]) -> Any:
    env = {**os.environ, "MERCHFLOW_DATA_DIR": str(data_dir), "MERCHFLOW_ENVIRONMENT": "test",
           "MERCHFLOW_SANDBOX__RATE_LIMITS": "false", "MERCHFLOW_LOG_LEVEL": "WARNING"}  # fmt: skip
    procs = []
    try:
        for mp, port in ports.items():
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "merchflow", "sandboxes", "--only", mp], cwd=ROOT,
                env={**env, f"MERCHFLOW_SANDBOX__{mp.upper()}_PORT": str(port)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        deadline = time.monotonic() + 60
        for mp, port in ports.items():
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2).status_code == 200:
                        # nobody listens for the marketplaces' notifications here
                        httpx.put(
                            f"http://127.0.0.1:{port}/_sandbox/webhooks", json={"url": None}
                        ).raise_for_status()
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{mp} sandbox did not start")
                time.sleep(0.1)
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:  # a loaded machine: do not leave it behind
                p.kill()
                p.wait()


async def seed_sandboxes(settings: Any, items: dict[str, Any], listed: dict[str, list[str]]) -> None:
    from tests.repricing.harness import listing_payloads, seed_sandbox
    from tests.stock.harness import Sandboxes

    sbx = Sandboxes(settings, MARKETPLACES)
    try:
        await asyncio.gather(
            *(seed_sandbox(sbx, mp, listing_payloads(items, listed[mp])) for mp in MARKETPLACES)
        )
    finally:
        await sbx.aclose()


# ---------------------------------------------------------------- the floor: a plain script
async def floor(
    engine: sa.Engine, settings: Any, accounts: dict[str, int], phases: dict[str, Row]
) -> dict[str, int]:
    from activities.repricing.compute import price_batch
    from activities.repricing.inputs import load_batch
    from activities.repricing.tables import PricingHistory
    from connectors.marketplace.accounts import MarketplaceRegistry
    from connectors.marketplace.types import PriceUpdate
    from merchflow.db.engine import read_session, session_scope
    from merchflow.db.models import MarketplaceListing
    from merchflow.db.types import utcnow
    from workflows.repricing.contract import FeeRate, FeeRates, RepriceFilter

    registry = MarketplaceRegistry(engine, settings)
    cfg = settings.repricing
    listing, history = MarketplaceListing.__table__, PricingHistory.__table__  # type: ignore[attr-defined]

    def compute(mp: str, account_id: int) -> Any:
        fee = cfg.fees.for_marketplace(mp)
        with read_session(engine) as s:
            frame = load_batch(s, account_id=account_id, marketplace=mp, filters=RepriceFilter(), after_sku="",
                               limit=10**9, fees=FeeRates(by_category={"": FeeRate(rate=fee.rate, fixed=fee.fixed)}),
                               now=utcnow(), competitor_max_age=__import__("datetime").timedelta(hours=24),
                               run_rate_days=cfg.run_rate_days, model=None)  # fmt: skip
        out = price_batch(frame, cfg.pricing, today=date.today())
        return out[out["changed"]]

    def record(account_id: int, changed: Any, applied: set[str]) -> None:
        rows = changed[changed["sku"].isin(applied)]
        now = utcnow()
        with session_scope(engine) as s:
            s.execute(
                sa.update(listing).where(listing.c.account_id == account_id, listing.c.sku == sa.bindparam("b_sku"))
                .values(price=sa.bindparam("b_price")),
                [{"b_sku": r.sku, "b_price": round(r.suggested_price, 2)} for r in rows.itertuples()],
            )  # fmt: skip
            s.execute(sa.insert(history), [
                {"sku": r.sku, "account_id": account_id, "old_price": r.current_price, "new_price": r.suggested_price,
                 "reason": r.reasoning[:2000], "confidence": r.confidence, "approved_by": "floor", "created_at": now}
                for r in rows.itertuples()
            ])  # fmt: skip

    async def one(mp: str, account_id: int) -> int:
        t0 = time.perf_counter()
        changed = await asyncio.to_thread(compute, mp, account_id)
        t1 = time.perf_counter()
        updates = [PriceUpdate(sku=r.sku, price=f"{r.suggested_price:.2f}") for r in changed.itertuples()]
        result = await registry.get(account_id).set_prices(
            updates, idempotency_key=f"floor-{uuid.uuid4().hex}"
        )
        applied = {o.sku for o in result.outcomes if o.status == "applied"}
        t2 = time.perf_counter()
        await asyncio.to_thread(record, account_id, changed, applied)
        phases[mp] = floor_row(t1 - t0, t2 - t1, time.perf_counter() - t2)
        return len(applied)

    try:
        pushed = await asyncio.gather(*(one(mp, a) for mp, a in accounts.items()))
    finally:
        await registry.aclose()
    return dict(zip(accounts, pushed, strict=True))


# ---------------------------------------------------------------- the run
async def run(client: Any, settings: Any, batch_size: int) -> Any:
    from workers.build import build_deps, build_workers
    from workflows.repricing.contract import RepriceRunInput, RepriceRunResult

    deps = build_deps(settings)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="activity")
    workers = build_workers(client, deps, only=["main"], executor=executor)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        t0 = time.perf_counter()
        run_id = f"reprice-bench-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            "reprice-run", RepriceRunInput(dry_run=False, batch_size=batch_size, refresh_competitors=False,
                                           requested_by="benchmark"),
            id=run_id, task_queue=settings.task_queue("main"),
            result_type=RepriceRunResult,
        )  # fmt: skip
        result = await handle.result()
        return time.perf_counter() - t0, result, run_id
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        await deps.services["marketplaces"].aclose()
        executor.shutdown(wait=False)


async def main(n: int, batch_size: int, keep: bool, only: str = "both") -> dict[str, Any]:
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from merchflow.db.engine import make_engine
    from merchflow.db.migrate import upgrade
    from merchflow.logging import configure_logging
    from merchflow.settings import Settings, bin_path
    from tests.repricing.harness import seed_catalog, set_price_policy

    configure_logging(level="WARNING")
    work = Path(tempfile.mkdtemp(prefix="reprice-bench-"))
    ports = {mp: _free_port() for mp in MARKETPLACES}
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")), data_converter=pydantic_data_converter, ui=False
    )
    try:
        with sandboxes(work / "sandboxes", ports):
            settings = Settings(
                _env_file=None, environment="test", data_dir=work / "data", seed_demo=False, schedules_enabled=False,
                database_url=f"sqlite:///{work / 'app.db'}",
                temporal={"address": env.client.service_client.config.target_host, "task_queue_prefix": "bench"},
                sandbox={**{f"{mp}_port": p for mp, p in ports.items()}, "rate_limits": False},
                marketplace_rate_limits=False, repricing={"amazon_fee_estimates": False},
            )  # type: ignore[call-arg]  # fmt: skip
            upgrade(settings.sqlalchemy_url)
            items = catalog(n)
            skus = list(items)
            listed = {mp: skus[i :: len(MARKETPLACES)] for i, mp in enumerate(MARKETPLACES)}
            t = time.perf_counter()
            engine = make_engine(settings.sqlalchemy_url)
            accounts = seed_catalog(engine, items, MARKETPLACES, listed=listed)
            set_price_policy(engine, "full-auto", threshold=0.0)
            engine.dispose()
            await seed_sandboxes(settings, items, listed)
            print(f"seeded {n} SKUs in {time.perf_counter() - t:.1f} s", flush=True)

            # floor on a copy of the database, so the run starts from the same prices
            shutil.copy(work / "app.db", work / "floor.db")
            floor_settings = settings.model_copy(
                update={"database_url": SecretStr(f"sqlite:///{work / 'floor.db'}")}
            )
            floor_engine = make_engine(floor_settings.sqlalchemy_url)
            floor_s, floor_cpu, floor_pushed, floor_phases = float("nan"), {}, {}, {}
            if only != "run":
                t, cpu0 = time.perf_counter(), process_cpu()
                floor_pushed = await floor(floor_engine, floor_settings, accounts, floor_phases)
                floor_s = time.perf_counter() - t
                floor_cpu = cpu_used(cpu0, process_cpu())
                print(f"floor: {floor_s:.1f} s, pushed {sum(floor_pushed.values())}", flush=True)
                await seed_sandboxes(settings, items, listed)  # back to the starting prices
            floor_engine.dispose()
            if only == "floor":
                return {"skus": n, "floor_seconds": round(floor_s, 2), "floor_cpu": floor_cpu}
            cpu0 = process_cpu()
            run_s, result, run_id = await run(env.client, settings, batch_size)
            run_cpu = cpu_used(cpu0, process_cpu())
            by_account = result.summary.accounts
            run_phases = {
                mp: await run_row(env.client, f"{run_id}-account-{a}", by_account[a].phase_seconds)
                for mp, a in accounts.items()
            }
            print("  seconds per phase (the run's batches and pushes overlap: summed per account)")
            print(table(floor_phases, run_phases))
            print(f"  CPU s floor: {floor_cpu} total {sum(floor_cpu.values()):.1f}")
            print(f"  CPU s run:   {run_cpu} total {sum(run_cpu.values()):.1f}")
            tot = result.summary.totals
            print(
                f"run:   {run_s:.1f} s, proposed {tot.proposed}, pushed {tot.pushed}, failed {tot.push_failed}"
            )
    finally:
        await env.shutdown()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "skus": n,
        "batch_size": batch_size,
        "run_seconds": round(run_s, 2),
        "floor_seconds": round(floor_s, 2),
        "ratio": round(run_s / floor_s, 3),
        "proposed": tot.proposed,
        "pushed": tot.pushed,
        "floor_pushed": sum(floor_pushed.values()),
        "push_rejected": tot.push_rejected,
        "push_failed": tot.push_failed,
        "floor_phases": as_json(floor_phases),
        "run_phases": as_json(run_phases),
        "floor_cpu": floor_cpu,
        "run_cpu": run_cpu,
        "run_skus_per_s": round(n / run_s, 1),
        "floor_skus_per_s": round(n / floor_s, 1),
        "work_dir": str(work) if keep else None,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (databases) for inspection")
    ap.add_argument(
        "--only", choices=("both", "floor", "run"), default="both", help="profiling: one side only"
    )
    args = ap.parse_args()
    out = asyncio.run(main(args.skus, args.batch_size, args.keep, args.only))
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (see GUIDE.md)
