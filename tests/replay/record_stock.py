"""Records the committed histories of the stock workflows and the bulk decision executor from real runs on the
test stack (sandboxes over HTTP, the API, a worker, a Temporal dev server). Re-run only on purpose, when a change
is meant to be incompatible (and old runs are drained):

    .venv/bin/python -m tests.replay.record_stock

Writes tests/replay/histories/<workflow-type>/<workflow-id>.json (demo SKUs, sandbox accounts: no real data).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from merchflow.settings import bin_path
from merchflow.temporal import SEARCH_ATTRIBUTES
from tests.conftest import make_token
from tests.replay.histories import record_history
from tests.stock.harness import open_stack
from tests.stock.waiting import converged, eventually
from workflows.decisions.contract import BATCH_EXECUTOR_ID
from workflows.stock.contract import ORDER_POLL_ALL_WORKFLOW, TASK_QUEUE, OrderPollAllInput, order_workflow_id


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")),
        data_converter=pydantic_data_converter,
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES],
        ui=False,
    )
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'app.db'}"
    upgrade(url)
    written: list[Path] = []
    try:
        async with open_stack(
            tmp / "data", db_url=url, client=env.client, stock={"REPLAY-MUG": 6, "REPLAY-TEE": 3},
            marketplaces=("ebay", "woocommerce"), sandbox_stock={"woocommerce": {"REPLAY-MUG": 9, "REPLAY-TEE": 3}},
        ) as st:  # fmt: skip
            token = make_token(st.engine, "operator")
            async with st.api(token) as api:
                # order-sync: a sale on eBay, delivered by its webhook
                await st.sbx.buy("ebay", "REPLAY-MUG", 2, order_id="replay-order-1")
                wid = order_workflow_id(st.accounts["ebay"], "replay-order-1")
                await eventually(lambda: _closed(st.client, wid), bool, what="order-sync closed")
                written.append(await record_history(st.client, wid))
                # stock-publish: a receipt through the API
                r = await api.post("/api/v1/stock/adjustments", json={
                    "sku": "REPLAY-TEE", "kind": "receipt", "quantity": 4, "reason": "replay",
                    "idempotency_key": "replay-receipt-1",
                })  # fmt: skip
                publish_id = r.json()["publish_workflow_id"]
                await st.client.get_workflow_handle(publish_id).result()
                written.append(await record_history(st.client, publish_id))
                # stock-reconcile + stock-reconcile-account: WooCommerce drifted (9 mugs where the master has 4)
                r = await api.post("/api/v1/stock/reconciles", json={"batch_size": 100})
                reconcile_id = r.json()["id"]
                await st.client.get_workflow_handle(reconcile_id).result()
                written.append(await record_history(st.client, reconcile_id))
                for account_id in st.accounts.values():
                    written.append(await record_history(st.client, f"{reconcile_id}-account-{account_id}"))
                await converged(st, ["REPLAY-MUG", "REPLAY-TEE"])
                # decision-batch-execute: a workflow-less price decision, approved in bulk
                proposal = {
                    "decision_type": "price_change", "subject": "REPLAY-TEE", "current": {"price": "19.99"},
                    "proposed": {"price": "18.49"}, "confidence": 0.2, "reasoning": "replay sample",
                }  # fmt: skip
                r = await api.post("/api/v1/decisions/bulk", json={"items": [
                    {"decision_id": "replay-bulk-1", "proposal": proposal}]})  # fmt: skip
                assert r.status_code == 200, r.text
                approver = make_token(st.engine, "approver")
                r = await api.post(
                    "/api/v1/decisions/bulk/decide",
                    json={
                        "action": "approve",
                        "items": [{"decision_id": "replay-bulk-1", "expected_version": 1}],
                    },
                    headers={"authorization": f"Bearer {approver}"},
                )
                assert r.status_code == 200 and r.json()[0]["ok"], r.text
                executor = f"{BATCH_EXECUTOR_ID}-{st.settings.task_queue(TASK_QUEUE)}"
                await st.client.get_workflow_handle(executor).result()
                written.append(await record_history(st.client, executor))
            # order-poll-all + order-poll: what the 5-minute schedule starts
            poll_id = "order-poll-replay"
            await st.client.execute_workflow(
                ORDER_POLL_ALL_WORKFLOW, OrderPollAllInput(), id=poll_id,
                task_queue=st.settings.task_queue(TASK_QUEUE),
            )  # fmt: skip
            written.append(await record_history(st.client, poll_id))
            written.append(await record_history(st.client, f"{poll_id}-poll-{st.accounts['ebay']}"))
    finally:
        await env.shutdown()
    for path in written:
        print(f"recorded {path}")


async def _closed(client, workflow_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return (await client.get_workflow_handle(workflow_id).describe()).close_time is not None
    except Exception:
        return False


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # short-lived SDK processes can crash in interpreter teardown (GUIDE)
