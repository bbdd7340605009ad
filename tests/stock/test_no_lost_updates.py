"""No lost updates: an order push and a reconcile push for the same SKU, interleaved in the worst order against the
real sandboxes - the stale write is the one that lands last - never leave a stale quantity on the marketplace.

The interleaving is forced, not hoped for: the adapter is wrapped so that just before the first write reaches the
marketplace, a whole competing change (a sale recorded in the master and pushed) runs to completion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.stock.activities import StockActivities
from activities.stock.reconcile import StockReconcileActivities
from activities.stock.repository import LineIn, record_order
from connectors.marketplace.types import BulkResult, QuantityUpdate
from merchflow.db.engine import session_scope
from tests.conftest import make_token
from tests.stock.conftest import StackFactory
from tests.stock.harness import Stack, on_hand
from tests.stock.waiting import converged, eventually
from workers.build import build_deps
from workflows.stock.contract import PushInput, ReconcileBatchInput


class WriteInterleaver:
    """The account's adapter, except that its next write first lets `before_write` run to the end."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.before_write: Callable[[], Awaitable[None]] | None = None
        self.writes: list[list[tuple[str, int]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: Any = None
    ) -> BulkResult:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            await hook()
        self.writes.append([(u.sku, u.quantity) for u in updates])
        return await self.inner.set_quantities(updates, idempotency_key=idempotency_key, on_wait=on_wait)


def sell(st: Stack, account_id: int, order_id: str, sku: str, quantity: int) -> None:
    with session_scope(st.engine) as s:
        r = record_order(
            s, account_id=account_id, marketplace="test", order_id=order_id, lines=[LineIn(sku, quantity)]
        )
    assert r.status == "allocated"


async def test_stale_writes_landing_last_are_corrected(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...]
) -> None:
    stock = {f"LU-{k}-{mp}": 10 for mp in marketplaces for k in ("R", "O")}
    # each marketplace's reconcile SKU shows 7 there: the reconcile will want to correct it to 10
    sandbox = {mp: {sku: (7 if sku == f"LU-R-{mp}" else 10) for sku in stock} for mp in marketplaces}
    async with stack_sqlite(stock=stock, sandbox_stock=sandbox, worker=False) as st:
        deps = build_deps(st.settings)
        orders_acts, reconcile_acts = StockActivities(deps), StockReconcileActivities(deps)
        env = ActivityEnvironment()
        for n, mp in enumerate(marketplaces):
            target = st.accounts[mp]
            seller = st.accounts[marketplaces[(n + 1) % len(marketplaces)]]
            adapter = WriteInterleaver(deps.services["marketplaces"].get(target))
            deps.services["marketplaces"]._adapters[target] = adapter

            # 1) reconcile read 7, computed 10 from stock version 1; meanwhile 3 are sold and pushed (7, version 2);
            #    then the reconcile's 10 lands
            sku = f"LU-R-{mp}"

            async def sale_and_push(sku: str = sku, target: int = target, seller: int = seller) -> None:
                sell(st, seller, f"o-{sku}", sku, 3)
                await orders_acts.push(target, [sku], f"order-push-{sku}")

            adapter.before_write = sale_and_push
            run = ReconcileBatchInput(
                run_id=f"lu-{mp}", account_id=target, cursor=None, batch_size=5000, batch_no=0
            )
            env.run(reconcile_acts.reconcile_start, run)  # a sync activity
            await env.run(reconcile_acts.reconcile_batch, run)
            assert [sku, 10] in [list(w) for ws in adapter.writes for w in ws], "the stale write was sent"
            assert await st.sbx.truth(mp, sku) == {sku: 7}, mp

            # 2) an order push computed 8 (version 2); before it lands, another sale (5, version 3) is pushed
            sku = f"LU-O-{mp}"
            sell(st, seller, f"o1-{sku}", sku, 2)

            async def second_sale(sku: str = sku, target: int = target, seller: int = seller) -> None:
                sell(st, seller, f"o2-{sku}", sku, 3)
                await orders_acts.push(target, [sku], f"order-push-2-{sku}")

            adapter.writes.clear()
            adapter.before_write = second_sale
            result = await env.run(
                orders_acts.push_quantities,
                PushInput(
                    account_id=target, skus=[sku], reason="order", idempotency_key=f"order-push-1-{sku}"
                ),
            )
            assert [(sku, 8)] in adapter.writes, "the stale write was sent"
            assert result.rounds == 2  # the re-check found version 3 and sent again
            assert await st.sbx.truth(mp, sku) == {sku: 5}, mp
        await deps.services["marketplaces"].aclose()


async def test_sale_on_the_marketplace_while_its_reconcile_runs(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...]
) -> None:
    """A reconcile reads a count the marketplace already lowered for a sale the master has not heard of yet, and
    "corrects" it back up. The order, once its webhook arrives, must put the selling listing right as well."""
    stock = {"SALE-1": 10, "SALE-2": 6}
    async with stack_sqlite(stock=stock) as st:
        assert st.relay is not None
        st.relay.hold = True  # the webhook is late
        seller = marketplaces[-1]
        assert (await st.sbx.buy(seller, "SALE-1", 1, order_id="late-1")).status_code in (200, 201)
        await eventually(
            lambda: asyncio.sleep(0, st.relay.for_marketplace(seller)),  # type: ignore[union-attr]
            lambda got: len(got) > 0,
        )
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            r = await api.post("/api/v1/stock/reconciles", json={"batch_size": 100})
            await st.client.get_workflow_handle(r.json()["id"]).result()
        assert await st.sbx.truth(seller, "SALE-1") == {"SALE-1": 10}  # the reconcile put the sold unit back
        st.relay.hold = False
        for d in list(st.relay.deliveries):
            await st.relay.send(d)
        await eventually(lambda: asyncio.to_thread(on_hand, st.engine, "SALE-1"), lambda v: v == 9)
        await converged(st, ["SALE-1", "SALE-2"])
