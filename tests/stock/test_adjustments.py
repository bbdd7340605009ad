"""Receipts and adjustments through POST /api/v1/stock/adjustments flow to every marketplace like orders do."""

from __future__ import annotations

import asyncio

from tests.conftest import make_token
from tests.stock.conftest import StackFactory
from tests.stock.harness import on_hand
from tests.stock.waiting import converged


async def test_receipt_and_adjustment_are_published_everywhere(stack_any_db: StackFactory) -> None:
    async with stack_any_db(stock={"ADJ-1": 2, "ADJ-2": 9}, buffers={"ebay": 1}) as st:
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            body = {
                "sku": "ADJ-1",
                "kind": "receipt",
                "quantity": 10,
                "reason": "PO 77",
                "idempotency_key": "po-77-line-1",
            }
            first = await api.post("/api/v1/stock/adjustments", json=body)
            again = await api.post("/api/v1/stock/adjustments", json=body)
            assert first.status_code == 201 and first.json()["applied"] and first.json()["on_hand"] == 12
            assert again.status_code == 201 and not again.json()["applied"] and again.json()["on_hand"] == 12
            await st.client.get_workflow_handle(first.json()["publish_workflow_id"]).result()
            await converged(st, ["ADJ-1", "ADJ-2"])
            if "ebay" in st.marketplaces:  # that channel keeps a safety buffer of one unit
                assert await st.sbx.truth("ebay", "ADJ-1") == {"ADJ-1": 11}

            count = {
                "sku": "ADJ-1",
                "kind": "adjustment",
                "quantity": -5,
                "reason": "cycle count",
                "idempotency_key": "count-2026-11",
            }
            r = await api.post("/api/v1/stock/adjustments", json=count)
            assert r.status_code == 201 and r.json()["on_hand"] == 7
            await converged(st, ["ADJ-1"])

            too_many = {**count, "quantity": -8, "idempotency_key": "count-oops-1"}
            refused = await api.post("/api/v1/stock/adjustments", json=too_many)
            assert refused.status_code == 422 and "never goes negative" in refused.json()["error"]["message"]
            viewer = make_token(st.engine, "viewer")
            forbidden = await api.post(
                "/api/v1/stock/adjustments", json={**count, "idempotency_key": "count-viewer"},
                headers={"authorization": f"Bearer {viewer}"},
            )  # fmt: skip
            assert forbidden.status_code == 403
            ledger = (await api.get("/api/v1/stock/ADJ-1/ledger")).json()["items"]
        assert [(e["kind"], e["quantity"]) for e in ledger] == [("adjustment", -5), ("receipt", 10)]
        assert await asyncio.to_thread(on_hand, st.engine, "ADJ-1") == 7
