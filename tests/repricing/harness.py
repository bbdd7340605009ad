"""The real stack for repricing tests and the benchmark: sandbox marketplaces on real ports, the API, a master
database seeded with a priced catalog (accounts, products with cost / list price / category, stock, receipts that
date the inventory, listings with their live price, competitor prices) and workers on a task queue of their own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from temporalio.client import Client

from activities.decisions.repository import set_policy
from activities.repricing.tables import CompetitorPrice
from activities.stock.tables import StockLedgerEntry
from domain.decisions.rules import PRICE_CHANGE
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, StockLevel
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from tests.stock.harness import Sandboxes, make_settings, serve_api, serve_sandboxes

MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")


@dataclass
class Item:
    """One SKU of the test catalog; `price` is both the list price and the live listing price."""

    cost: str = "10.00"
    price: str = "40.00"
    stock: int = 50
    age_days: int = 10  # the stock on hand was received this many days ago
    category: str = "General"
    competitor: str | None = None  # a fresh competitor price
    sold: int = (
        0  # units sold on each marketplace over the last 14 days (the run-rate behind expected effects)
    )
    identifiers: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


def seed_catalog(
    engine: sa.Engine,
    catalog: Mapping[str, Item],
    marketplaces: Iterable[str],
    *,
    listed: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, int]:
    """Accounts named "sandbox", products, stock, receipts and one active listing per (account, SKU) at the item's
    price. Bulk inserts: 100,000 SKUs take seconds."""
    now = utcnow()
    accounts: dict[str, int] = {}
    base = random.randrange(10_000, 2_000_000_000, 10)  # the Temporal server outlives each test's database
    skus = list(catalog)
    marketplaces = tuple(marketplaces)
    with session_scope(engine) as s:
        for n, mp in enumerate(marketplaces):
            s.add(
                MarketplaceAccount(
                    id=base + n, marketplace=mp, name="sandbox", credentials_ref=f"sandbox-{mp}"
                )
            )
            accounts[mp] = base + n
        s.flush()
        conn = s.connection()
        for i in range(0, len(skus), 10_000):
            part = skus[i : i + 10_000]
            conn.execute(sa.insert(Product.__table__), [  # type: ignore[attr-defined]
                {"sku": k, "name": f"Item {k}", "category": catalog[k].category, "cost": catalog[k].cost,
                 "price": catalog[k].price, "currency": "USD",
                 "attributes": {"identifiers": catalog[k].identifiers, **catalog[k].attributes},
                 "image_refs": [], "added_at": now - timedelta(days=catalog[k].age_days), "updated_at": now}
                for k in part
            ])  # fmt: skip
            conn.execute(sa.insert(StockLevel.__table__), [  # type: ignore[attr-defined]
                {"sku": k, "on_hand": catalog[k].stock, "reserved": 0, "version": 1, "updated_at": now} for k in part
            ])  # fmt: skip
            conn.execute(sa.insert(StockLedgerEntry.__table__), [  # type: ignore[attr-defined]
                {"sku": k, "kind": "receipt", "quantity": catalog[k].stock, "reserved_delta": 0,
                 "reason": "test stock", "idempotency_key": f"test-receipt:{k}", "created_by": "test",
                 "created_at": now - timedelta(days=catalog[k].age_days)}
                for k in part if catalog[k].stock > 0
            ])  # fmt: skip
            sales = [
                {"sku": k, "kind": "sale", "quantity": -catalog[k].sold, "reserved_delta": 0, "reason": "test sale",
                 "source_marketplace": mp, "idempotency_key": f"test-sale:{mp}:{k}", "created_by": "test",
                 "created_at": now - timedelta(days=14)}
                for k in part for mp in marketplaces if catalog[k].sold
            ]  # fmt: skip
            if sales:
                conn.execute(sa.insert(StockLedgerEntry.__table__), sales)  # type: ignore[attr-defined]
            comps = [k for k in part if catalog[k].competitor]
            if comps:
                conn.execute(sa.insert(CompetitorPrice.__table__), [  # type: ignore[attr-defined]
                    {"sku": k, "source": "test", "price": catalog[k].competitor, "currency": "USD",
                     "matched_by": "gtin", "fetched_at": now}
                    for k in comps
                ])  # fmt: skip
        for mp, account_id in accounts.items():
            mine = list(listed[mp]) if listed and mp in listed else skus
            for i in range(0, len(mine), 10_000):
                conn.execute(sa.insert(MarketplaceListing.__table__), [  # type: ignore[attr-defined]
                    {"account_id": account_id, "sku": k, "price": catalog[k].price, "quantity": catalog[k].stock,
                     "status": "active", "published_version": 1}
                    for k in mine[i : i + 10_000]
                ])  # fmt: skip
    return accounts


def set_price_policy(engine: sa.Engine, mode: str, threshold: float = 0.85) -> None:
    with session_scope(engine) as s:
        set_policy(
            s,
            decision_type=PRICE_CHANGE,
            mode=mode,
            threshold=threshold,
            guardrails={"max_price_change_pct": 20.0},
            actor="test",
        )


def listing_payloads(catalog: Mapping[str, Item], skus: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"sku": k, "title": f"Item {k}", "price": catalog[k].price, "quantity": catalog[k].stock,
         "identifiers": catalog[k].identifiers}
        for k in skus
    ]  # fmt: skip


async def seed_sandbox(sbx: Sandboxes, mp: str, listings: list[dict[str, Any]]) -> None:
    replace = True
    for i in range(0, len(listings), 20_000):
        r = await sbx.call(
            mp, "POST", "/_sandbox/seed", json={"listings": listings[i : i + 20_000], "replace": replace}
        )
        r.raise_for_status()
        replace = False


async def sandbox_prices(sbx: Sandboxes, mp: str) -> dict[str, Decimal | None]:
    """SKU -> the price the marketplace shows now."""
    r = await sbx.call(mp, "GET", "/_sandbox/listings", params={"limit": 200_000})
    r.raise_for_status()
    body = r.json()
    rows = body["listings"] if isinstance(body, dict) else body
    return {row["sku"]: None if row.get("price") is None else Decimal(str(row["price"])) for row in rows}


async def price_effects(sbx: Sandboxes, mp: str) -> list[dict[str, Any]]:
    r = await sbx.call(mp, "GET", "/_sandbox/effects", params={"limit": 1_000_000})
    r.raise_for_status()
    return [e for e in r.json() if e["field"] in ("price", "regular_price")]


# ---------------------------------------------------------------- workers
@contextlib.asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, queues: Iterable[str] | None = None
) -> AsyncIterator[Any]:
    """The workers `merchflow worker` builds (every queue by default), in this process and event loop."""
    from workers.build import build_deps, build_workers

    deps = build_deps(settings)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="activity")
    workers = build_workers(client, deps, only=list(queues) if queues else None, executor=executor)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield deps
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await deps.services["marketplaces"].aclose()
        executor.shutdown(wait=False)


# ---------------------------------------------------------------- the stack
@dataclass
class RepriceStack:
    settings: Settings
    engine: sa.Engine
    sbx: Sandboxes
    accounts: dict[str, int]
    client: Client
    catalog: Mapping[str, Item]
    api_url: str = ""

    def api(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.api_url, headers={"authorization": f"Bearer {token}"}, timeout=60
        )

    @property
    def main_queue(self) -> str:
        return self.settings.task_queue("main")

    async def run(self, *, dry_run: bool, wid: str | None = None, timeout: float = 240, **kw: Any) -> Any:
        from workflows.repricing.contract import RepriceFilter, RepriceRunInput, RepriceRunResult

        filters = RepriceFilter(**{k: kw.pop(k) for k in ("skus", "category", "account_ids") if k in kw})
        inp = RepriceRunInput(
            dry_run=dry_run, filters=filters, refresh_competitors=kw.pop("refresh", False), **kw
        )
        handle = await self.client.start_workflow(
            "reprice-run", inp, id=wid or f"reprice-test-{random.getrandbits(40):x}", task_queue=self.main_queue,
            result_type=RepriceRunResult,
        )  # fmt: skip
        return await asyncio.wait_for(handle.result(), timeout)


@contextlib.asynccontextmanager
async def open_stack(
    data_dir: Path,
    *,
    db_url: str,
    client: Client,
    catalog: Mapping[str, Item],
    marketplaces: Iterable[str] = MARKETPLACES,
    worker: bool = True,
    sandbox_skus: Mapping[str, Iterable[str]] | None = None,
    **settings_extra: Any,
) -> AsyncIterator[RepriceStack]:
    mps = tuple(marketplaces)
    settings = make_settings(
        data_dir, db_url=db_url, temporal_target=client.service_client.config.target_host, marketplaces=mps,
        **settings_extra,
    )  # fmt: skip
    engine = make_engine(db_url)
    accounts = seed_catalog(engine, catalog, mps)
    sbx = Sandboxes(settings, mps)
    try:
        with contextlib.ExitStack() as servers:
            servers.enter_context(serve_sandboxes(settings, mps))
            api_url = servers.enter_context(serve_api(settings))
            for mp in mps:
                # price changes make some marketplaces notify (product updated): not what these tests are about
                (await sbx.call(mp, "PUT", "/_sandbox/webhooks", json={"url": None})).raise_for_status()
                skus = list(sandbox_skus[mp]) if sandbox_skus and mp in sandbox_skus else list(catalog)
                await seed_sandbox(sbx, mp, listing_payloads(catalog, skus))
            st = RepriceStack(settings, engine, sbx, accounts, client, catalog, api_url)
            if worker:
                async with running_worker(client, settings):
                    yield st
            else:
                yield st
    finally:
        await sbx.aclose()
        engine.dispose()


async def wait_for(check: Callable[[], Any], *, timeout: float = 60, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)
