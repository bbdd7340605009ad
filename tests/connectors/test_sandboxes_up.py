"""`merchflow sandboxes` (what `merchflow up` starts) in a real subprocess on free ports: every sandbox answers, and
the demo accounts `seed-demo` creates reach the demo catalog through their adapters with no configuration beyond
the ports ("make up starts them and seeds them with the demo catalog; the adapters are configured against
them by default")."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.types import ListingSnapshot
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceListing
from merchflow.seed import DEMO_ACCOUNT, DEMO_MARKETPLACES, DEMO_PRODUCTS, seed_demo
from merchflow.settings import Settings
from merchflow.startup import extra_children
from sandboxes.run import HEALTH_PATH, SANDBOXES
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0  # a loaded 2-core machine imports four sandboxes slowly


def _env(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
    env |= {f"MERCHFLOW_SANDBOX__{mp.upper()}_PORT": str(p) for mp, p in ports.items()}
    env |= {"MERCHFLOW_DATA_DIR": str(data_dir), "MERCHFLOW_LOG_JSON": "true", "PYTHONPATH": str(REPO)}
    return env


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[Settings, subprocess.Popen[bytes]]]:
    ports = {mp: free_port() for mp in DEMO_MARKETPLACES}
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=True,
        sandbox={f"{mp}_port": p for mp, p in ports.items()},  # type: ignore[arg-type]
    )
    log = (tmp_path / "sandboxes.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "merchflow", "sandboxes"],
        env=_env(settings.data_dir, ports),
        cwd=tmp_path,  # no .env of the repository
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        pending = set(ports)
        while pending:
            assert proc.poll() is None, (tmp_path / "sandboxes.log").read_text()
            assert time.monotonic() < deadline, (
                f"not ready: {pending}\n{(tmp_path / 'sandboxes.log').read_text()}"
            )
            for mp in list(pending):
                try:
                    if httpx.get(settings.sandbox.base_url(mp) + HEALTH_PATH, timeout=2).status_code == 200:
                        pending.discard(mp)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        yield settings, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


async def _all_listings(adapter: object) -> list[ListingSnapshot]:
    out: list[ListingSnapshot] = []
    cursor: str | None = None
    while True:
        page = await adapter.list_listings(cursor)  # type: ignore[attr-defined]
        out += page.items
        cursor = page.next_cursor
        if cursor is None:
            return out


async def test_sandboxes_serve_the_demo_catalog_to_the_demo_accounts(
    sandboxes: tuple[Settings, subprocess.Popen[bytes]], sqlite_engine: sa.Engine
) -> None:
    settings, proc = sandboxes
    async with httpx.AsyncClient(timeout=10) as http:
        for mp in DEMO_MARKETPLACES:
            health = (await http.get(settings.sandbox.base_url(mp) + HEALTH_PATH)).json()
            assert health == {"status": "ok", "sandbox": mp}

    seed_demo(sqlite_engine)
    with session_scope(sqlite_engine) as s:  # the master's demo listings, one per product and account
        listed = s.execute(sa.select(MarketplaceListing.account_id, MarketplaceListing.sku)).all()  # type: ignore[call-overload]
    assert len(listed) == len(DEMO_MARKETPLACES) * len(DEMO_PRODUCTS)

    expected = {sku: (qty, Decimal(price)) for sku, _n, _b, _c, _cost, price, qty, _ids in DEMO_PRODUCTS}
    registry = MarketplaceRegistry(sqlite_engine, settings)
    try:
        accounts = registry.accounts()
        assert sorted((a.marketplace, a.name) for a in accounts) == [
            (mp, DEMO_ACCOUNT) for mp in DEMO_MARKETPLACES
        ]
        for account in accounts:
            assert account.base_url == settings.sandbox.base_url(account.marketplace)
            items = await _all_listings(registry.get(account.account_id or 0))
            seen = {i.sku: (i.quantity, i.price) for i in items if i.sku in expected}
            assert seen == expected, account.marketplace
    finally:
        await registry.aclose()

    # the sandboxes live in one process that SIGTERM (what `merchflow up` sends) stops cleanly, every port freed
    os.killpg(proc.pid, signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 30) == 0
    async with httpx.AsyncClient(timeout=2) as http:
        for mp in DEMO_MARKETPLACES:
            with pytest.raises(httpx.ConnectError):
                await http.get(settings.sandbox.base_url(mp) + HEALTH_PATH)


def test_up_starts_the_sandboxes_before_the_worker_unless_disabled(tmp_settings: Settings) -> None:
    (spec,) = [c for c in extra_children(tmp_settings) if c.name == "sandboxes"]
    assert spec.argv[-1] == "sandboxes" and spec.tier == 1
    assert set(spec.ports) == {tmp_settings.sandbox.port(name) for name in SANDBOXES}
    assert spec.ready_url is not None and spec.ready_url.endswith(HEALTH_PATH)
    tmp_settings.sandbox.enabled = False
    assert [c for c in extra_children(tmp_settings) if c.name == "sandboxes"] == []
