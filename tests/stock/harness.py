"""The real stack for stock tests and benchmarks: sandbox marketplaces and the API on real ports (webhooks travel
over HTTP), a master database seeded with accounts / products / stock / listings, and workers (in-process or a
`python -m merchflow worker` subprocess) on a task queue of their own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from temporalio.client import Client

from merchflow.db.engine import make_engine, session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, StockLevel
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from sandboxes.run import load_app

# re-exported (`X as X`): other features' tests and the benchmarks import them from here
from tests.stock.sandbox_client import Delivery as Delivery
from tests.stock.sandbox_client import Relay as Relay
from tests.stock.sandbox_client import Sandboxes as Sandboxes
from tests.stock.sandbox_client import listing_payload as listing_payload
from tests.support.servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
# Reconciles only need quantities: eBay would otherwise read every SKU's offer (one call per SKU) for its price.
ACCOUNT_OPTIONS: dict[str, dict[str, Any]] = {"ebay": {"listing_prices": False, "page_size": 200}}


def make_settings(
    data_dir: Path,
    *,
    db_url: str,
    temporal_target: str,
    marketplaces: Iterable[str] = MARKETPLACES,
    sandbox_rate_limits: bool = False,
    client_rate_limits: bool = False,
    **extra: Any,
) -> Settings:
    api_port = free_port()
    sandbox: dict[str, Any] = {f"{mp}_port": free_port() for mp in marketplaces}
    sandbox |= {"rate_limits": sandbox_rate_limits, "webhook_base_url": f"http://127.0.0.1:{api_port}"}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=db_url,  # type: ignore[arg-type]
        seed_demo=False,
        schedules_enabled=False,
        api_port=api_port,
        temporal={"address": temporal_target, "task_queue_prefix": f"stock-{uuid.uuid4().hex[:8]}"},
        sandbox=sandbox,
        marketplace_rate_limits=client_rate_limits,
        **extra,
    )


def settings_env(settings: Settings, marketplaces: Iterable[str]) -> dict[str, str]:
    """The same settings as MERCHFLOW_ environment variables, for `python -m merchflow worker`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
    env |= {
        "MERCHFLOW_ENVIRONMENT": "test",
        "MERCHFLOW_DATA_DIR": str(settings.data_dir),
        "MERCHFLOW_DATABASE_URL": settings.sqlalchemy_url,
        "MERCHFLOW_SEED_DEMO": "false",
        "MERCHFLOW_TEMPORAL_ADDRESS": settings.temporal_target,
        "MERCHFLOW_TEMPORAL__TASK_QUEUE_PREFIX": settings.temporal.task_queue_prefix,
        "MERCHFLOW_MARKETPLACE_RATE_LIMITS": str(settings.marketplace_rate_limits).lower(),
        "MERCHFLOW_SHORTAGE_POLICY": settings.shortage_policy,
        "MERCHFLOW_LOG_LEVEL": "WARNING",
        "MERCHFLOW_LOG_JSON": "true",
    }
    for mp in marketplaces:
        env[f"MERCHFLOW_SANDBOX__{mp.upper()}_PORT"] = str(settings.sandbox.port(mp))
    return env


@contextlib.contextmanager
def serve_sandboxes(settings: Settings, marketplaces: Iterable[str]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for mp in marketplaces:
            stack.enter_context(serve(load_app(mp, settings), settings.sandbox.port(mp)))
        yield


@contextlib.contextmanager
def serve_api(settings: Settings) -> Iterator[str]:
    from api.app import create_app

    with serve(create_app(settings), settings.api_port) as url:
        yield url


# ---------------------------------------------------------------- master data
def seed_master(
    engine: sa.Engine,
    stock: Mapping[str, int],
    marketplaces: Iterable[str],
    *,
    listed: Mapping[str, Iterable[str]] | None = None,
    buffers: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Accounts named "sandbox" (the sandboxes' webhook target), products, stock levels and one active listing per
    (account, SKU) showing what the master says (published version 1). `listed` restricts an account's SKUs.
    Bulk inserts, so 100,000s of SKUs take seconds."""
    now = utcnow()
    accounts: dict[str, int] = {}
    # Order workflow ids are "order-<account id>-<order id>" and sandboxes number their orders from 1 again in every
    # test, while the Temporal server lives for the whole session: account ids are drawn at random to keep apart.
    base = random.randrange(10_000, 2_000_000_000, 10)
    with session_scope(engine) as s:
        for n, mp in enumerate(marketplaces):
            row = MarketplaceAccount(
                id=base + n,
                marketplace=mp,
                name="sandbox",
                credentials_ref=f"sandbox-{mp}",
                config=ACCOUNT_OPTIONS.get(mp, {}),
                safety_buffer=(buffers or {}).get(mp, 0),
            )
            s.add(row)
            s.flush()
            accounts[mp] = row.id or 0
        conn = s.connection()
        skus = list(stock)
        for i in range(0, len(skus), 10000):
            part = skus[i : i + 10000]
            conn.execute(
                sa.insert(Product.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "sku": sku,
                        "name": f"Item {sku}",
                        "cost": "5.00",
                        "price": "19.99",
                        "currency": "USD",
                        "attributes": {},
                        "image_refs": [],
                        "added_at": now,
                        "updated_at": now,
                    }
                    for sku in part
                ],
            )
            conn.execute(
                sa.insert(StockLevel.__table__),  # type: ignore[attr-defined]
                [
                    {"sku": sku, "on_hand": stock[sku], "reserved": 0, "version": 1, "updated_at": now}
                    for sku in part
                ],
            )
        for mp, account_id in accounts.items():
            mine = list(listed[mp]) if listed and mp in listed else skus
            buffer = (buffers or {}).get(mp, 0)
            for i in range(0, len(mine), 10000):
                conn.execute(
                    sa.insert(MarketplaceListing.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "account_id": account_id,
                            "sku": sku,
                            "quantity": max(0, stock[sku] - buffer),
                            "status": "active",
                            "published_version": 1,
                        }
                        for sku in mine[i : i + 10000]
                    ],
                )
    return accounts


def master_available(engine: sa.Engine, account_id: int | None = None) -> dict[str, int]:
    """SKU -> what the master says a listing of that account should show."""
    from activities.stock.repository import publish_targets

    with session_scope(engine) as s:
        skus = [r[0] for r in s.execute(sa.select(StockLevel.sku))]  # type: ignore[call-overload]
        return {t.sku: t.quantity for t in publish_targets(s, skus, account_id=account_id)}


def on_hand(engine: sa.Engine, sku: str) -> int:
    with session_scope(engine) as s:
        level = s.get(StockLevel, sku)
        return level.on_hand if level else 0


# ---------------------------------------------------------------- workers
@contextlib.asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, adapters: Mapping[int, Any] | None = None
) -> AsyncIterator[None]:
    """The same workers `merchflow worker` builds, in this process and event loop. `adapters` (account id -> a
    Marketplace adapter built by the test, e.g. on an instrumented httpx transport) replace the registry's own."""
    from workers.build import build_deps, build_workers

    deps = build_deps(settings)
    for account_id, adapter in (adapters or {}).items():
        deps.services["marketplaces"].use(account_id, adapter)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="activity")
    workers = build_workers(client, deps, only=["main"], executor=executor)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await deps.services["marketplaces"].aclose()
        executor.shutdown(wait=False)


def spawn_worker(settings: Settings, marketplaces: Iterable[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", "worker", "--queue", "main"],
        env=settings_env(settings, marketplaces),
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def db_engine(settings: Settings) -> sa.Engine:
    return make_engine(settings.sqlalchemy_url)


# ---------------------------------------------------------------- the whole stack
@dataclass
class Stack:
    settings: Settings
    engine: sa.Engine
    sbx: Sandboxes
    accounts: dict[str, int]
    client: Client
    api_url: str = ""
    relay: Relay | None = None

    @property
    def marketplaces(self) -> tuple[str, ...]:
        return self.sbx.marketplaces

    def api(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=60)


@contextlib.asynccontextmanager
async def open_stack(
    data_dir: Path,
    *,
    db_url: str,
    client: Client,
    stock: Mapping[str, int],
    marketplaces: Iterable[str] = MARKETPLACES,
    sandbox_stock: Mapping[str, Mapping[str, int]] | None = None,
    listed: Mapping[str, Iterable[str]] | None = None,
    buffers: Mapping[str, int] | None = None,
    worker: bool = True,
    relay: bool = True,
    **settings_extra: Any,
) -> AsyncIterator[Stack]:
    """Master seeded with `stock` (every account lists every SKU unless `listed` says otherwise), each sandbox seeded
    with `sandbox_stock[mp]` (default: what the master says), API and sandboxes on real ports, a worker running."""
    mps = tuple(marketplaces)
    settings = make_settings(
        data_dir, db_url=db_url, temporal_target=client.service_client.config.target_host, marketplaces=mps,
        **settings_extra,
    )  # fmt: skip
    engine = make_engine(db_url)
    accounts = seed_master(engine, stock, mps, listed=listed, buffers=buffers)
    sbx = Sandboxes(settings, mps)
    hooks = Relay() if relay else None
    try:
        with contextlib.ExitStack() as servers:
            if hooks is not None:
                settings.sandbox.webhook_base_url = servers.enter_context(serve(hooks.app))
            servers.enter_context(serve_sandboxes(settings, mps))
            api_url = servers.enter_context(serve_api(settings))
            if hooks is not None:
                hooks.target = api_url
            for mp in mps:
                mine = sandbox_stock[mp] if sandbox_stock and mp in sandbox_stock else None
                if mine is None:
                    skus = list(listed[mp]) if listed and mp in listed else list(stock)
                    mine = {sku: max(0, stock[sku] - (buffers or {}).get(mp, 0)) for sku in skus}
                await sbx.seed(mp, mine, replace=True)
            st = Stack(settings, engine, sbx, accounts, client, api_url, hooks)
            try:
                if worker:
                    async with running_worker(client, settings):
                        yield st
                else:
                    yield st
            finally:
                if hooks is not None:
                    hooks.hold = True  # late deliveries are swallowed while the servers stop
    finally:
        await sbx.aclose()
        engine.dispose()
