"""Records the committed histories of the arbitrage workflows from real runs on the time-skipping server with the
sandboxes (classifieds, payments, Amazon, eBay) and the real activities. Re-run only on purpose, when a change is
meant to be incompatible (and old runs are drained):

    .venv/bin/python -m tests.replay.record_arbitrage

Writes tests/replay/histories/arbitrage-scan/ and arbitrage-deal/ (sandbox listings, no real data): one scan run
over the acceptance scenario, a negotiated deal from the opening offer to the sale (a five-day wait for the reply,
ten days for delivery), and a deal whose seller never answers.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.arbitrage.tables import SavedSearch
from merchflow.db.engine import session_scope
from merchflow.settings import bin_path
from tests.arbitrage.deal_harness import deal_rig, seller_says
from tests.arbitrage.scenario import e2e_scenario
from tests.replay.histories import record_history
from workflows.arbitrage.contract import (
    RECEIVED_SIGNAL,
    SCAN_WORKFLOW,
    SELLER_REPLY_SIGNAL,
    SOLD_SIGNAL,
    ReceiptSignal,
    SaleSignal,
    ScanInput,
    ScanResult,
    SellerReplySignal,
    deal_workflow_id,
)


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_path("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    written: list[Path] = []
    try:
        # a negotiated deal, to the sale; and one whose seller never answers
        scenario = e2e_scenario()
        for row in scenario.listings:
            if row["id"] == "L-NEGO":
                row["behaviour"] = {"mode": "never"}
        async with deal_rig(Path(tempfile.mkdtemp()), env, f"replay-{uuid.uuid4().hex[:6]}", scenario) as rig:
            async with rig.worker():
                handle = await rig.start("L-NEGO")
                st = await rig.status(handle, lambda s: s.waiting_for == "seller_reply")
                await env.sleep(timedelta(days=5))
                msg = seller_says(rig, "L-NEGO", "ok deal, it's yours", agrees_to=st.last_offer)
                await handle.signal(
                    SELLER_REPLY_SIGNAL, SellerReplySignal(message_id=str(msg["id"]), text=msg["text"])
                )
                await rig.approve_purchase(rig.deal("L-NEGO").id, actor="replay")
                await rig.status(handle, lambda s: s.waiting_for == "delivery")
                await env.sleep(timedelta(days=10))
                await handle.signal(
                    RECEIVED_SIGNAL, ReceiptSignal(condition="like_new", received_by="replay")
                )
                await rig.status(handle, lambda s: s.waiting_for == "sale")
                price = rig.deal("L-NEGO").list_price
                assert price is not None
                await handle.signal(SOLD_SIGNAL, SaleSignal(sale_price=price, marketplace="amazon"))
                await handle.result()
            written.append(
                await _record_as(env, deal_workflow_id(rig.deal("L-NEGO").id), "arbitrage-deal-sold")
            )
        async with deal_rig(Path(tempfile.mkdtemp()), env, f"replay-{uuid.uuid4().hex[:6]}", scenario) as rig:
            async with rig.worker():
                handle = await rig.start("L-NEGO")
                await handle.result()
            written.append(
                await _record_as(env, deal_workflow_id(rig.deal("L-NEGO").id), "arbitrage-deal-no-reply")
            )
        # the scan: deals started for the two opportunities (left waiting: recorded last, so no later step needs time skipping)
        async with deal_rig(
            Path(tempfile.mkdtemp()), env, f"replay-{uuid.uuid4().hex[:6]}", e2e_scenario(), scan=False,
            arbitrage={"rules": {"channels": ["amazon_fba"]}},
        ) as rig:  # fmt: skip
            with session_scope(rig.stack.engine) as s:
                search = SavedSearch(name="replay", source="classifieds", query={}, created_by="replay")
                s.add(search)
                s.flush()
                search_id = search.id
            async with rig.worker():
                await rig.client.execute_workflow(
                    SCAN_WORKFLOW, ScanInput(search_id=search_id or 0, batch_size=10), id="arbitrage-scan-replay",
                    task_queue=rig.task_queue, result_type=ScanResult,
                )  # fmt: skip
            written.append(await record_history(env.client, "arbitrage-scan-replay"))

    finally:
        await env.shutdown()
    for path in written:
        print(f"recorded {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (GUIDE)


async def _record_as(env: WorkflowEnvironment, workflow_id: str, name: str) -> Path:
    """Deal ids are hashes of the offer: the same in every run, so each recording gets its own file name."""
    path = await record_history(env.client, workflow_id)
    target = path.with_name(f"{name}.json")
    path.replace(target)
    return target


if __name__ == "__main__":
    asyncio.run(main())
