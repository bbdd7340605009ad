"""A purchase order end to end on the real stack (sandbox marketplaces over HTTP, the API, a worker, the Temporal
dev server, a local SMTP server): sales history -> forecast run -> reorder suggestion -> `purchase` decision ->
approval -> email with the PDF and the CSV received -> confirmation -> partial receipt -> stock on every sandbox ->
the rest received."""

from __future__ import annotations

import email.message
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.replenishment.tables import PurchaseOrder, StockAlert
from activities.stock.tables import StockLedgerEntry
from merchflow.db.engine import session_scope
from merchflow.db.migrate import upgrade
from tests.conftest import make_token
from tests.decisions.servers import smtp_server
from tests.forecasting.sales_files import daily_sales_csv
from tests.stock.harness import on_hand, open_stack
from tests.stock.waiting import eventually

MPS = ("ebay", "shopify")


def _attachments(msg: email.message.Message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in msg.walk() if part.get_filename()}  # type: ignore[misc]


async def test_purchase_order_from_suggestion_to_stock_on_the_sandboxes(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with smtp_server() as (port, mails):
        notifications = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                         "smtp_to": ["ops@example.test"]}  # fmt: skip
        async with open_stack(
            tmp_path / "data", db_url=url, client=temporal_env.client, marketplaces=MPS,
            stock={"PO-MUG": 10, "PO-TEE": 400}, notifications=notifications,
        ) as st:  # fmt: skip
            operator, approver = make_token(st.engine, "operator"), make_token(st.engine, "approver")
            async with st.api(operator) as api:
                sales = daily_sales_csv({"PO-MUG": 6.0, "PO-TEE": 2.0}, days=160, end=yesterday, seed=3)
                r = await api.post(
                    "/api/v1/sales/imports", content=sales, headers={"content-type": "text/csv"}
                )
                assert r.status_code == 202, r.text
                await st.client.get_workflow_handle(r.json()["workflow_id"]).result()
                r = await api.post("/api/v1/suppliers", json={
                    "name": "Mugs & Co", "email": "orders@mugs.test", "lead_time_days": 10, "lead_time_std_days": 2,
                    "moq": 20, "pack_size": 10, "currency": "USD",
                })  # fmt: skip
                assert r.status_code == 201, r.text
                supplier_id = r.json()["id"]
                r = await api.put(f"/api/v1/suppliers/{supplier_id}/items", json={"items": [
                    {"sku": "PO-MUG", "unit_cost": "4.00", "supplier_sku": "M-1"},
                    {"sku": "PO-TEE", "unit_cost": "3.00"},
                ]})  # fmt: skip
                assert r.json() == {"linked": 2}

                r = await api.post("/api/v1/forecasting/runs", json={"retrain": True})
                assert r.status_code == 202, r.text
                run = await st.client.get_workflow_handle(r.json()["id"]).result()
                assert run["summary"]["status"] == "completed" and run["summary"]["totals"]["skus"] == 2

                # the plan: the mug (10 on hand, ~6 a day, 10 days' lead time) is below its reorder point
                plan = (await api.get("/api/v1/replenishment/plan/PO-MUG")).json()
                assert plan["basis"] == "forecast" and 4 < plan["demand_per_day"] < 8
                assert plan["reorder_point"] > 60 and plan["safety_stock"] > 0 and plan["order_qty"] > 0
                assert plan["order_qty"] % 10 == 0 and plan["order_qty"] >= 20  # pack size and MOQ
                assert (await api.get("/api/v1/replenishment/plan/PO-TEE")).json()["order_qty"] == 0
                with session_scope(st.engine) as s:
                    po = s.execute(sa.select(PurchaseOrder)).scalars().one()
                    assert s.get(StockAlert, ("PO-MUG", "low_stock")).status == "firing"
                po_id, qty = po.id, int(plan["order_qty"])
                r = await api.get(f"/api/v1/purchase-orders/{po_id}")
                assert r.json()["status"] == "proposed" and r.json()["lines"][0]["quantity"] == qty

                # the decision waits for a human (semi-auto by default); an approver approves
                decision_id = f"{po_id}-approval"
                d = await eventually(lambda: api.get(f"/api/v1/decisions/{decision_id}"),
                                     lambda r: r.status_code == 200 and r.json()["decision"]["status"] == "pending",
                                     what="purchase decision pending")  # fmt: skip
                assert d.json()["decision"]["decision_type"] == "purchase_order"
                version = d.json()["decision"]["version"]
                r = await api.post(f"/api/v1/decisions/{decision_id}/approve", json={"expected_version": version},
                                   headers={"authorization": f"Bearer {approver}"})  # fmt: skip
                assert r.status_code == 200, r.text

                # the supplier's email: PDF + CSV
                def po_mail() -> email.message.Message | None:
                    return next((m for to, m in mails if to == ["orders@mugs.test"]), None)

                async def mail() -> email.message.Message | None:
                    return po_mail()

                msg = await eventually(mail, lambda m: m is not None, what="PO email")
                assert msg is not None and po_id in msg["Subject"]
                files = _attachments(msg)
                assert files[f"{po_id}.pdf"].startswith(b"%PDF")
                csv_text = files[f"{po_id}.csv"].decode()
                assert f"{po_id},PO-MUG,M-1," in csv_text and f",{qty},4.00," in csv_text
                sent = await eventually(lambda: api.get(f"/api/v1/purchase-orders/{po_id}"),
                                        lambda r: r.json()["status"] == "sent", what="PO sent")  # fmt: skip
                assert sent.json()["sent_to"] == "orders@mugs.test"
                # the run's alert digest went to the operators, once
                digests = [
                    m for to, m in mails if to == ["ops@example.test"] and "stock alerts" in m["Subject"]
                ]
                assert len(digests) == 1 and "PO-MUG" in digests[0].get_payload()

                r = await api.post(f"/api/v1/purchase-orders/{po_id}/confirm", json={"note": "ships Monday"})
                assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text

                # a partial delivery: stock rises by what arrived and reaches every marketplace
                first = 10
                body = {"receipt_id": "DN-1", "lines": [{"sku": "PO-MUG", "quantity": first}]}
                r = await api.post(f"/api/v1/purchase-orders/{po_id}/receipts", json=body)
                assert r.status_code == 200, r.text
                assert r.json()["status"] == "partially_received" and r.json()["applied"] is True
                assert on_hand(st.engine, "PO-MUG") == 10 + first
                for mp in MPS:
                    await eventually(lambda mp=mp: st.sbx.truth(mp, "PO-MUG"),
                                     lambda t: t.get("PO-MUG") == 10 + first, what=f"{mp} shows the receipt")  # fmt: skip
                again = await api.post(f"/api/v1/purchase-orders/{po_id}/receipts", json=body)
                assert again.json()["applied"] is False and on_hand(st.engine, "PO-MUG") == 10 + first
                too_many = {"receipt_id": "DN-2", "lines": [{"sku": "PO-MUG", "quantity": qty}]}
                r = await api.post(f"/api/v1/purchase-orders/{po_id}/receipts", json=too_many)
                assert r.status_code == 409 and "exceed" in r.json()["error"]["message"]

                rest = {"receipt_id": "DN-3", "lines": [{"sku": "PO-MUG", "quantity": qty - first}]}
                r = await api.post(f"/api/v1/purchase-orders/{po_id}/receipts", json=rest)
                assert r.json()["status"] == "received", r.text
                assert await st.client.get_workflow_handle(f"purchase-order-{po_id}").result()
                for mp in MPS:
                    await eventually(lambda mp=mp: st.sbx.truth(mp, "PO-MUG"),
                                     lambda t: t.get("PO-MUG") == 10 + qty, what=f"{mp} shows all of it")  # fmt: skip
                with session_scope(st.engine) as s:
                    receipts = (
                        s.execute(
                            sa.select(StockLedgerEntry.quantity).where(
                                StockLedgerEntry.external_ref == po_id, StockLedgerEntry.kind == "receipt"
                            )
                        )
                        .scalars()
                        .all()
                    )  # type: ignore[arg-type]
                assert sorted(receipts) == sorted([first, qty - first])
