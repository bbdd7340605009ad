"""Marketplaces race to sell the last unit: customers buy on several sandboxes at once, each sandbox sends its own
signed webhook to the API. Exactly one order is allocated; the others follow the shortage policy; stock never goes
negative; every listing ends at the master's zero."""

from __future__ import annotations

import asyncio

import pytest

from tests.stock.conftest import StackFactory
from tests.stock.harness import Stack, on_hand
from tests.stock.waiting import converged, eventually, orders, sales
from workflows.stock.contract import OrderSyncResult
from workflows.stock.orders import OrderSyncWorkflow


async def race(st: Stack, mps: tuple[str, ...]) -> list[int]:
    """All customers buy at once; returns every on-hand value seen until all orders are decided."""
    seen: list[int] = []
    buys = await asyncio.gather(*(st.sbx.buy(mp, "LAST-1", 1, order_id=f"race-{mp}") for mp in mps))
    assert all(r.status_code in (200, 201) for r in buys), [r.text for r in buys]

    async def decided() -> list[str]:
        seen.append(await asyncio.to_thread(on_hand, st.engine, "LAST-1"))
        return [o.status for o in orders(st)]

    await eventually(decided, lambda s: len(s) == len(mps) and "received" not in s, what="orders decided")
    return seen


async def results(st: Stack) -> dict[str, OrderSyncResult]:
    out = {}
    for o in orders(st):
        assert o.workflow_id
        handle = st.client.get_workflow_handle_for(OrderSyncWorkflow.run, o.workflow_id)  # type: ignore[arg-type]
        out[o.marketplace] = await handle.result()
    return out


async def test_last_unit_cancel_policy(stack_any_db: StackFactory, marketplaces: tuple[str, ...]) -> None:
    if len(marketplaces) < 3:
        pytest.skip("needs three marketplaces")
    async with stack_any_db(stock={"LAST-1": 1, "OTHER": 4}, shortage_policy="cancel") as st:
        seen = await race(st, marketplaces)
        assert min(seen) >= 0
        statuses = sorted(o.status for o in orders(st))
        assert statuses == ["allocated"] + ["cancelled"] * (len(marketplaces) - 1)
        assert on_hand(st.engine, "LAST-1") == 0 and len(sales(st, "LAST-1")) == 1
        done = await results(st)
        for mp, r in done.items():
            if r.status == "allocated":
                continue
            assert r.status == "cancelled"
            assert r.cancelled_on_marketplace, (mp, r)  # Amazon too: an order acknowledgement feed
        lost = [o for o in orders(st) if o.status == "cancelled"]
        assert all(o.outcome["short"][0]["action"] == "cancel" for o in lost)
        assert all("marketplace_cancel" in o.outcome for o in lost)
        # the losers' marketplaces took the unit off (and some put it back on cancelling): all show the master's 0
        await converged(st, ["LAST-1", "OTHER"])


async def test_last_unit_backorder_policy(stack_any_db: StackFactory, marketplaces: tuple[str, ...]) -> None:
    if len(marketplaces) < 3:
        pytest.skip("needs three marketplaces")
    mps = marketplaces[-3:]
    async with stack_any_db(stock={"LAST-1": 1}, marketplaces=mps, shortage_policy="backorder") as st:
        seen = await race(st, mps)
        assert min(seen) >= 0
        assert sorted(o.status for o in orders(st)) == ["allocated", "backordered", "backordered"]
        assert on_hand(st.engine, "LAST-1") == 0 and len(sales(st, "LAST-1")) == 1
        for o in orders(st):
            if o.status == "backordered":
                assert o.outcome["short"] == [
                    {
                        "sku": "LAST-1",
                        "quantity": 1,
                        "shortage": 1,
                        "action": "backorder",
                        "reason": "only 0 of 1 available",
                    }
                ]
        assert not any(r.cancelled_on_marketplace for r in (await results(st)).values())
        await converged(st, ["LAST-1"])
