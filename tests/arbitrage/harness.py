"""The arbitrage stack for tests and the benchmark: sandboxes on real ports (classifieds, payments, Amazon, eBay, and
the other two marketplaces when listing), a migrated database with the "sandbox" marketplace accounts, `Deps` with
the composition root's services, and helpers to seed a scenario."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from merchflow.db.engine import session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import MarketplaceAccount
from merchflow.settings import Settings
from sandboxes.run import load_app
from tests.arbitrage.scenario import Scenario
from tests.support.servers import free_port, serve
from workers.build import build_deps
from workers.deps import Deps

SANDBOXES = ("amazon", "ebay", "classifieds", "payments")


def make_settings(tmp: Path, *, temporal_target: str = "127.0.0.1:7233", sandboxes: Iterable[str] = SANDBOXES,
                  db_url: str | None = None, rate_limits: bool = False, **extra: Any) -> Settings:  # fmt: skip
    api_port = free_port()
    sandbox: dict[str, Any] = {f"{name}_port": free_port() for name in sandboxes}
    sandbox |= {"rate_limits": rate_limits, "webhook_base_url": f"http://127.0.0.1:{api_port}"}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp / "data",
        database_url=db_url or f"sqlite:///{tmp / 'arb.db'}",  # type: ignore[arg-type]
        seed_demo=False,
        schedules_enabled=False,
        api_port=api_port,
        temporal={"address": temporal_target, "task_queue_prefix": f"arb-{uuid.uuid4().hex[:8]}"},
        sandbox=sandbox,
        marketplace_rate_limits=rate_limits,
        **extra,
    )


def add_accounts(engine: sa.Engine, marketplaces: Iterable[str]) -> dict[str, int]:
    base = random.randrange(10_000, 2_000_000_000, 10)
    out = {}
    with session_scope(engine) as s:
        for n, mp in enumerate(marketplaces):
            row = MarketplaceAccount(id=base + n, marketplace=mp, name="sandbox", credentials_ref=f"sandbox-{mp}",
                                     config={"listing_prices": False} if mp == "ebay" else {})  # fmt: skip
            s.add(row)
            s.flush()
            out[mp] = row.id or 0
    return out


@dataclass
class ArbStack:
    settings: Settings
    engine: sa.Engine
    deps: Deps
    accounts: dict[str, int]

    def url(self, name: str) -> str:
        return self.settings.sandbox.base_url(name)

    def seed(self, scenario: Scenario) -> None:
        with httpx.Client(timeout=120) as c:
            c.post(self.url("amazon") + "/_sandbox/amazon/market",
                   json={"products": [p.amazon() for p in scenario.products]}).raise_for_status()  # fmt: skip
            items = [i for p in scenario.products for i in p.ebay_items()]
            if items:
                c.post(self.url("ebay") + "/_sandbox/ebay/market", json={"items": items}).raise_for_status()
            for i in range(0, len(scenario.listings), 20000):
                c.post(self.url("classifieds") + "/_sandbox/classifieds/seed",
                       json={"listings": scenario.listings[i : i + 20000]}).raise_for_status()  # fmt: skip

    def get(self, name: str, path: str, **params: Any) -> Any:
        r = httpx.get(self.url(name) + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def put(self, name: str, path: str, body: Any) -> Any:
        r = httpx.put(self.url(name) + path, json=body, timeout=30)
        r.raise_for_status()
        return r.json()


@contextlib.contextmanager
def arb_stack(tmp: Path, *, sandboxes: Iterable[str] = SANDBOXES, webhooks: bool = False,
              **settings_kw: Any) -> Iterator[ArbStack]:  # fmt: skip
    """Sandboxes on their ports (webhooks off unless asked), the database migrated, accounts for the marketplaces."""
    names = tuple(sandboxes)
    settings = make_settings(tmp, sandboxes=names, **settings_kw)
    upgrade(settings.sqlalchemy_url)
    deps = build_deps(settings)
    engine = deps.engine
    accounts = add_accounts(engine, [n for n in names if n in ("amazon", "ebay", "shopify", "woocommerce")])
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(serve(load_app(name, settings), settings.sandbox.port(name)))
        if not webhooks:
            for name in names:
                httpx.put(
                    settings.sandbox.base_url(name) + "/_sandbox/webhooks", json={"url": None}
                ).raise_for_status()
        try:
            yield ArbStack(settings=settings, engine=engine, deps=deps, accounts=accounts)
        finally:
            engine.dispose()
