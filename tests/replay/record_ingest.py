"""Records the committed histories of the ingest workflows from a real run on the ingest test stack (the four
sandboxes over HTTP, the API, a worker, a Temporal dev server): a batch of two generated photos, one drafted and
approved (so its product workflow runs through the `listing_publish` decision to live listings), one a duplicate.
Re-run only on purpose, when a change is meant to be incompatible (and old runs are drained):

    .venv/bin/python -m tests.replay.record_ingest

Writes tests/replay/histories/<workflow-type>/<workflow-id>.json (generated photos, sandbox accounts: no real data).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from merchflow.settings import bin_path
from merchflow.temporal import SEARCH_ATTRIBUTES
from tests.ingest import photos
from tests.ingest.stack import ingest_stack, manifest_zip
from tests.replay.histories import record_history
from workflows.ingest.contract import batch_workflow_id, product_workflow_id


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")),
        data_converter=pydantic_data_converter,
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES],
        ui=False,
    )
    tmp = Path(tempfile.mkdtemp())
    written: list[Path] = []
    try:
        async with ingest_stack(tmp / "s", env.client) as st:
            rows = [
                {"images": "mug.jpg", "sku": "REPLAY-MUG", "cost": "4.00", "quantity": "3",
                 "marketplaces": "ebay;woocommerce"},
                {"images": "dup.jpg", "sku": "REPLAY-DUP"},
            ]  # fmt: skip
            files = {"mug.jpg": photos.red_mug().data, "dup.jpg": photos.red_mug().data}
            created = await st.upload_zip(manifest_zip(rows, files))
            await st.wait_batch(created["batch_id"])
            mug = await st.product(created["products"][0]["id"])
            d = await st.wait_decision(mug["decision_id"], {"pending"})
            r = await st.api.post(
                f"/api/v1/decisions/{d['id']}/approve",
                headers=st.auth,
                json={"expected_version": d["version"]},
            )
            assert r.status_code == 200, r.text
            for p in created["products"]:
                await st.client.get_workflow_handle(product_workflow_id(p["id"])).result()
                written.append(await record_history(st.client, product_workflow_id(p["id"])))
            batch_id = batch_workflow_id(created["batch_id"])
            await st.client.get_workflow_handle(batch_id).result()
            written.append(await record_history(st.client, batch_id))
    finally:
        await env.shutdown()
    for path in written:
        print(f"recorded {path}")


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # short-lived SDK processes can crash in interpreter teardown (GUIDE)
