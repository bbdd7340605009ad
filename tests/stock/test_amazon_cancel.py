"""An Amazon order the master cannot fill (Amazon still showed a unit the master no longer has) is cancelled on
Amazon through the stock shortage policy: the order-sync workflow's cancel activity sends an order acknowledgement
feed, the sandbox processes it, the order becomes Canceled on Amazon and the master records the cancel as applied."""

from __future__ import annotations

import asyncio

from tests.stock.conftest import StackFactory
from tests.stock.waiting import converged, eventually, orders
from workflows.stock.contract import OrderSyncResult
from workflows.stock.orders import OrderSyncWorkflow


async def test_an_amazon_order_that_cannot_be_filled_is_cancelled_on_amazon(
    stack_sqlite: StackFactory,
) -> None:
    async with stack_sqlite(
        stock={"GONE-1": 0, "OTHER": 2},
        marketplaces=("amazon",),
        sandbox_stock={"amazon": {"GONE-1": 1, "OTHER": 2}},
        shortage_policy="cancel",
    ) as st:
        bought = await st.sbx.buy("amazon", "GONE-1", 1, order_id="112-0000001-0000001")
        assert bought.status_code == 201, bought.text
        [order] = await eventually(
            lambda: asyncio.to_thread(orders, st),
            lambda o: len(o) == 1 and o[0].status != "received" and "marketplace_cancel" in o[0].outcome,
            what="the order decided and its cancel recorded",
        )
        assert order.status == "cancelled"
        assert order.outcome["marketplace_cancel"]["status"] == "applied", order.outcome
        assert order.workflow_id
        handle = st.client.get_workflow_handle_for(OrderSyncWorkflow.run, order.workflow_id)  # type: ignore[arg-type]
        result: OrderSyncResult = await handle.result()
        assert result.cancelled_on_marketplace and "NoInventory" in (result.cancel_message or "")
        effects = (
            await st.sbx.call(
                "amazon", "GET", "/_sandbox/effects", params={"entity": "order:112-0000001-0000001"}
            )
        ).json()
        assert [e["new_value"] for e in effects] == ["Unshipped", "Canceled"]
        feeds = [r for r in await st.sbx.requests("amazon") if r["path"] == "/feeds/2021-06-30/feeds"]
        assert len(feeds) == 1  # one acknowledgement feed, nothing resent
        await converged(st, ["GONE-1", "OTHER"])
