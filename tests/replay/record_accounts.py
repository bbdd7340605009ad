"""Records the committed histories of the accounts and listings workflows (account-test, listing-sync after a
continue-as-new, listing-sync-all, product-archive with its approved decision) from real runs on the test stack
(sandboxes over HTTP, the API, a worker, a Temporal dev server). Re-run only on purpose:

    .venv/bin/python -m tests.replay.record_accounts

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
from tests.stock.waiting import eventually
from workflows.listings.contract import SYNC_ALL_WORKFLOW, TASK_QUEUE, SyncAllInput, sync_workflow_id


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
            marketplaces=("woocommerce",), listed={"woocommerce": []}, relay=False,
            listing_sync={"batch_listings": 2, "batches_per_run": 1},
        ) as st:  # fmt: skip
            account = st.accounts["woocommerce"]
            store = [
                {"sku": "REPLAY-MUG", "title": "Mug", "price": "9.99", "quantity": 6, "identifiers": {}},
                {"sku": "REPLAY-TEE", "title": "Tee", "price": "19.99", "quantity": 3, "identifiers": {}},
                {"sku": "REPLAY-CAP", "title": "Cap", "price": "5.00", "quantity": 1, "identifiers": {}},
            ]
            await st.sbx.call(
                "woocommerce", "POST", "/_sandbox/seed", json={"listings": store, "replace": True}
            )
            async with st.api(make_token(st.engine, "admin")) as api:
                # account-test
                report = (await api.post(f"/api/v1/accounts/{account}/test")).json()
                assert report["results"], report
                test_ids = [w.id async for w in st.client.list_workflows("WorkflowType = 'account-test'")]
                written.append(await record_history(st.client, test_ids[0]))
                # listing-sync: three listings in batches of two, one batch per run (a continue-as-new)
                await api.post(f"/api/v1/accounts/{account}/listing-sync")
                await st.client.get_workflow_handle(sync_workflow_id(account)).result()
                written.append(await record_history(st.client, sync_workflow_id(account)))
                # listing-sync-all: what the daily schedule starts
                all_id = "listing-sync-all-replay"
                await st.client.execute_workflow(
                    SYNC_ALL_WORKFLOW,
                    SyncAllInput(),
                    id=all_id,
                    task_queue=st.settings.task_queue(TASK_QUEUE),
                )
                written.append(await record_history(st.client, all_id))
                await st.client.get_workflow_handle(sync_workflow_id(account)).result()
                # product-archive: the mug is archived, its listing ended once the decision is approved
                gone = (await api.delete("/api/v1/products/REPLAY-MUG")).json()
                pending = await eventually(
                    lambda: api.get("/api/v1/decisions", params={"decision_type": "listing_deactivate"}),
                    lambda r: bool(r.json()["items"]), what="the decision",
                )  # fmt: skip
                d = pending.json()["items"][0]
                await api.post(
                    f"/api/v1/decisions/{d['id']}/approve", json={"expected_version": d["version"]}
                )
                await st.client.get_workflow_handle(gone["deactivation"]).result()
                written.append(await record_history(st.client, gone["deactivation"]))
    finally:
        await env.shutdown()
    for path in written:
        print(f"recorded {path}")


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # short-lived SDK processes can crash in interpreter teardown (GUIDE)
