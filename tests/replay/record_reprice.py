"""Records a committed history of the `reprice-account` workflow as it runs now (patch "reprice-ramp-up-and-two-
pushes": batches growing from a small first one, two pushes in flight) from a real full-auto run on the test stack
(WooCommerce sandbox over HTTP, a worker, a Temporal dev server). Re-run only on purpose, when the workflow changes:

    .venv/bin/python -m tests.replay.record_reprice

Writes tests/replay/histories/reprice-account/<workflow-id>.json (generated SKUs, a sandbox account: no real data).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from merchflow.settings import bin_path
from tests.replay.histories import record_history
from tests.repricing.harness import Item, open_stack, set_price_policy


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")), data_converter=pydantic_data_converter, ui=False
    )
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'app.db'}"
    upgrade(url)
    catalog = {f"REPLAY-{i:04d}": Item(stock=450) for i in range(1400)}  # all marked down: three batches
    try:
        async with open_stack(
            tmp / "data", db_url=url, client=env.client, catalog=catalog, marketplaces=("woocommerce",)
        ) as st:
            set_price_policy(st.engine, "full-auto", threshold=0.0)
            run_id = "reprice-replay-pipelined"
            await st.run(dry_run=False, wid=run_id, batch_size=5000)
            path = await record_history(st.client, f"{run_id}-account-{st.accounts['woocommerce']}")
            print(path)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # the SDK can crash at interpreter exit in short-lived processes (see GUIDE.md)
