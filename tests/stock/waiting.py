"""Polling helpers: integration tests wait for the system to settle, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from activities.stock.tables import MarketplaceOrder, StockLedgerEntry
from tests.stock.harness import Stack, master_available

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    *,
    timeout: float = 60,
    what: str = "",
    transient: tuple[type[Exception], ...] = (),
) -> T:
    """Call `probe` until `ok(value)`; fail with the last value after `timeout` seconds. A probe raising one of
    `transient` (a sandbox too busy to answer in time on a loaded machine) counts as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await probe()
            if ok(value):
                return value
        except transient as exc:
            value = exc  # type: ignore[assignment]
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout}s: {what} last={value!r}"[:4000])
        await asyncio.sleep(0.2)


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
    """Every marketplace shows what the master says, for these SKUs. On failure the message lists only the SKUs
    that differ: {marketplace: {sku: (shown, master)}}."""

    async def differences() -> dict[str, dict[str, tuple[int | None, int | None]]]:
        shown, wanted = await marketplace_views(st, skus), await master_views(st, skus)
        out = {}
        for mp, view in wanted.items():
            diff = {
                sku: (shown.get(mp, {}).get(sku), q)
                for sku, q in view.items()
                if shown.get(mp, {}).get(sku) != q
            }
            diff |= {sku: (q, None) for sku, q in shown.get(mp, {}).items() if sku not in view}
            if diff:
                out[mp] = diff
        return out

    await eventually(
        differences,
        lambda d: not d,
        timeout=timeout,
        what="marketplaces == master",
        transient=(httpx.TransportError,),
    )


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


async def listed(st: Stack, mp: str, order_id: str) -> bool:
    """Whether the marketplace's order list, read from the account's stored poll cursor, holds `order_id` yet (some
    marketplaces list an order only once its last change has settled): what a poll started now would find."""
    from activities.stock.tables import OrderCursor
    from connectors.marketplace.accounts import MarketplaceRegistry

    account_id = st.accounts[mp]
    with Session(st.engine) as s:
        row = s.get(OrderCursor, account_id)
        cursor = row.cursor if row else None
    registry = MarketplaceRegistry(st.engine, st.settings)
    try:
        adapter = registry.get(account_id)
        while True:
            page = await adapter.list_orders(cursor)
            if any(o.order_id == order_id for o in page.orders):
                return True
            if not page.has_more:
                return False
            cursor = page.next_cursor
    finally:
        await registry.aclose()
