"""Polling helpers: integration tests wait for the system to settle, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from merchflow.db.models import StockLedgerEntry
from merchflow.db.stock import MarketplaceOrder
from tests.stock.harness import Stack, master_available

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, timeout: float = 60, what: str = ""
) -> T:
    """Call `probe` until `ok(value)`; fail with the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not ok(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout}s: {what} last={value!r}"[:4000])
        await asyncio.sleep(0.2)
        value = await probe()
    return value


async def marketplace_views(st: Stack, skus: list[str] | None = None) -> dict[str, dict[str, int | None]]:
    """mp -> {sku: quantity on that marketplace} for the given SKUs (all when None)."""
    out = {}
    for mp in st.marketplaces:
        if skus is not None and len(skus) <= 5:
            view: dict[str, int | None] = {}
            for sku in skus:
                view |= await st.sbx.truth(mp, sku)
        else:
            view = await st.sbx.truth(mp)
            if skus is not None:
                view = {s: view.get(s) for s in skus}
        out[mp] = view
    return out


async def master_views(st: Stack, skus: list[str] | None = None) -> dict[str, dict[str, int | None]]:
    out: dict[str, dict[str, int | None]] = {}
    for mp, account_id in st.accounts.items():
        want = await asyncio.to_thread(master_available, st.engine, account_id)
        out[mp] = {s: want.get(s) for s in (skus if skus is not None else list(want))}
    return out


async def converged(st: Stack, skus: list[str] | None = None, *, timeout: float = 90) -> None:
    """Every marketplace shows what the master says, for these SKUs."""

    async def probe() -> tuple[dict[str, Any], dict[str, Any]]:
        return await marketplace_views(st, skus), await master_views(st, skus)

    await eventually(probe, lambda v: v[0] == v[1], timeout=timeout, what="marketplaces == master")


def sales(st: Stack, sku: str | None = None) -> list[StockLedgerEntry]:
    with Session(st.engine) as s:
        q = select(StockLedgerEntry).where(StockLedgerEntry.kind == "sale")
        if sku:
            q = q.where(StockLedgerEntry.sku == sku)
        return list(s.exec(q.order_by(StockLedgerEntry.id)).all())  # type: ignore[arg-type]


def orders(st: Stack) -> list[MarketplaceOrder]:
    with Session(st.engine) as s:
        return list(s.exec(select(MarketplaceOrder).order_by(MarketplaceOrder.id)).all())  # type: ignore[arg-type]


def count(st: Stack, table: Any) -> int:
    with Session(st.engine) as s:
        return int(s.exec(select(sa.func.count()).select_from(table)).one())
