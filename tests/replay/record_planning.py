"""Records the committed histories of the demand-planning workflows (sales-import, forecast-run, replenishment-run,
purchase-order) from a real run on the test stack (two sandboxes over HTTP, the API, a worker, a Temporal dev
server, a local SMTP server). Re-run only on purpose, when a change is meant to be incompatible:

    .venv/bin/python -m tests.replay.record_planning

Writes tests/replay/histories/<workflow-type>/<workflow-id>.json (generated SKUs and a made-up supplier).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.replenishment.tables import PurchaseOrder
from merchflow.db.engine import session_scope
from merchflow.db.migrate import upgrade
from merchflow.settings import bin_path
from merchflow.temporal import SEARCH_ATTRIBUTES
from tests.conftest import make_token
from tests.decisions.servers import smtp_server
from tests.forecasting.sales_files import daily_sales_csv
from tests.replay.histories import record_history
from tests.stock.harness import open_stack
from tests.stock.waiting import eventually


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(bin_path("temporal")), data_converter=pydantic_data_converter,
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SEARCH_ATTRIBUTES], ui=False,
    )  # fmt: skip
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'app.db'}"
    upgrade(url)
    written: list[Path] = []
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    try:
        with smtp_server() as (port, mails):
            smtp = {
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": "none",
                "smtp_to": ["ops@x.test"],
            }
            async with open_stack(tmp / "data", db_url=url, client=env.client, marketplaces=("ebay",),
                                  stock={"REPLAY-MUG": 8, "REPLAY-TEE": 300}, notifications=smtp) as st:  # fmt: skip
                async with st.api(make_token(st.engine, "operator")) as api:
                    sales = daily_sales_csv({"REPLAY-MUG": 5.0, "REPLAY-TEE": 2.0}, days=140, end=yesterday)
                    r = await api.post(
                        "/api/v1/sales/imports", content=sales, headers={"content-type": "text/csv"}
                    )
                    await st.client.get_workflow_handle(r.json()["workflow_id"]).result()
                    written.append(await record_history(st.client, r.json()["workflow_id"]))
                    r = await api.post("/api/v1/suppliers", json={"name": "Replay Supplies", "email": "po@replay.test",
                                                                  "lead_time_days": 7, "moq": 10, "pack_size": 5})  # fmt: skip
                    await api.put(f"/api/v1/suppliers/{r.json()['id']}/items",
                                  json={"items": [{"sku": "REPLAY-MUG", "unit_cost": "4.00"}]})  # fmt: skip
                    r = await api.post("/api/v1/forecasting/runs", json={"retrain": True})
                    run_id = r.json()["id"]
                    await st.client.get_workflow_handle(run_id).result()
                    written.append(await record_history(st.client, run_id))
                    written.append(await record_history(st.client, f"{run_id}-replenishment"))
                    with session_scope(st.engine) as s:
                        po = s.execute(sa.select(PurchaseOrder)).scalars().one()
                        po_id = po.id
                    approver = make_token(st.engine, "approver")
                    did = f"{po_id}-approval"
                    await eventually(lambda: api.get(f"/api/v1/decisions/{did}"),
                                     lambda r: r.status_code == 200 and r.json()["decision"]["status"] == "pending")  # fmt: skip
                    await api.post(f"/api/v1/decisions/{did}/approve", json={"expected_version": 1},
                                   headers={"authorization": f"Bearer {approver}"})  # fmt: skip
                    await eventually(lambda: api.get(f"/api/v1/purchase-orders/{po_id}"),
                                     lambda r: r.json()["status"] == "sent")  # fmt: skip
                    await api.post(f"/api/v1/purchase-orders/{po_id}/confirm", json={})
                    lines = (await api.get(f"/api/v1/purchase-orders/{po_id}")).json()["lines"]
                    qty = lines[0]["quantity"]
                    for n, part in enumerate((5, qty - 5)):
                        r = await api.post(f"/api/v1/purchase-orders/{po_id}/receipts", json={
                            "receipt_id": f"replay-{n}", "lines": [{"sku": "REPLAY-MUG", "quantity": part}]})  # fmt: skip
                        assert r.status_code == 200, r.text
                    wid = f"purchase-order-{po_id}"
                    await st.client.get_workflow_handle(wid).result()
                    written.append(await record_history(st.client, wid))
                    assert any(to == ["po@replay.test"] for to, _ in mails)
    finally:
        await env.shutdown()
    for path in written:
        print(f"recorded {path}")


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)  # short-lived SDK processes can crash in interpreter teardown (GUIDE)
