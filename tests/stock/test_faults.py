"""Sandboxes failing like real marketplaces - 5% 5xx, 5% 429 with Retry-After, 5% of writes applied but answered
with a timeout - while a reconcile runs and customers keep buying: every run converges to the master, and no
change is applied twice under one idempotency key."""

from __future__ import annotations

import asyncio

from tests.conftest import make_token
from tests.stock.conftest import StackFactory
from tests.stock.waiting import converged, eventually, orders

FAULTS = {
    "error_rate": 0.05,
    "rate_429": 0.05,
    "lost_response_rate": 0.05,
    "retry_after_seconds": 1,
    "seed": 7,
}


async def test_reconcile_and_orders_converge_under_faults(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...]
) -> None:
    stock = {f"F-{i:03d}": 30 + i % 11 for i in range(400)}
    drifted = {
        mp: {sku: q + 1 + i % 3 if i % 5 == n % 5 else q for i, (sku, q) in enumerate(stock.items())}
        for n, mp in enumerate(marketplaces)
    }
    async with stack_sqlite(stock=stock, sandbox_stock=drifted) as st:
        for mp in marketplaces:
            await st.sbx.faults(mp, **FAULTS)
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            r = await api.post("/api/v1/stock/reconciles", json={"batch_size": 100})
            assert r.status_code == 202, r.text
            run = r.json()["id"]
            # customers keep buying the same SKUs on every marketplace while the reconcile runs
            buys = [(mp, f"F-{(7 * k + n) % 400:03d}") for k in range(4) for n, mp in enumerate(marketplaces)]
            for k, (mp, sku) in enumerate(buys):
                assert (await st.sbx.buy(mp, sku, 1, order_id=f"f-{k}")).status_code in (200, 201)
                await asyncio.sleep(0.1)
            await st.client.get_workflow_handle(run).result()
            status = (await api.get(f"/api/v1/stock/reconciles/{run}")).json()
        assert status["status"] == "completed" and {a["status"] for a in status["accounts"]} == {"completed"}
        await eventually(
            lambda: asyncio.to_thread(orders, st),
            lambda o: len(o) == len(buys) and {x.status for x in o} == {"allocated"},
            timeout=120,
        )
        await converged(st, timeout=120)
        injected = 0
        for mp in marketplaces:
            assert await st.sbx.duplicates(mp) == [], mp
            injected += sum(1 for req in await st.sbx.requests(mp) if req["fault"])
        assert injected > 0, "no fault was injected: the test proved nothing"
