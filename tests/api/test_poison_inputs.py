"""Input that passes the schema but would poison a workflow is refused at the edge (422 naming it), and no workflow
starts: ids of accounts that do not exist or are disabled, a decision policy whose timeout no date can hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import select
from temporalio.service import RPCError

from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount
from merchflow.db.types import utcnow
from tests.api.conftest import Stack
from workflows.repricing.contract import RepriceFilter, RepriceRunInput, manual_run_id
from workflows.stock.contract import manual_reconcile_id


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stack.app)
    headers = {"Authorization": f"Bearer {stack.admin}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


async def _started(stack: Stack, path: str, ids: list[int], minutes: list[datetime]) -> bool:
    """Whether the workflow this request would have started exists (its id is derived from the request)."""
    client = await stack.app.state.temporal.get()
    for at in minutes:
        if "reconciles" in path:
            wid = manual_reconcile_id(ids, at, deployment=stack.settings.temporal.task_queue_prefix)
        else:
            inp = RepriceRunInput(dry_run=True, filters=RepriceFilter(account_ids=ids), requested_by="admin")
            wid = manual_run_id(inp, at, deployment=stack.settings.temporal.task_queue_prefix)
        try:
            await client.get_workflow_handle(wid).describe()
            return True
        except RPCError:
            continue
    return False


@pytest.mark.parametrize("path", ["/api/v1/stock/reconciles", "/api/v1/repricing/runs"])
@pytest.mark.parametrize("ids", [[2**64], [2**31], [999_999], [1, 424_242]])
async def test_account_ids_that_cannot_work_are_refused_before_any_workflow_starts(
    stack: Stack, api: httpx.AsyncClient, path: str, ids: list[int]
) -> None:
    r = await api.post(path, json={"account_ids": ids})
    now = utcnow()
    assert r.status_code == 422, r.text
    unknown = [i for i in ids if i != 1]
    if all(i < 2**31 for i in ids):  # in range: refused because no such account exists, and named
        assert all(str(i) in r.json()["error"]["message"] for i in unknown), r.json()
    if all(i < 2**31 for i in ids):
        assert not await _started(stack, path, ids, [now - timedelta(minutes=1), now])


async def test_a_disabled_account_is_named(stack: Stack, api: httpx.AsyncClient) -> None:
    engine = stack.app.state.engine
    with session_scope(engine) as s:
        acc = s.exec(select(MarketplaceAccount).where(MarketplaceAccount.marketplace == "ebay")).one()
        acc.enabled, acc_id = False, acc.id
        s.add(acc)
    try:
        r = await api.post("/api/v1/stock/reconciles", json={"account_ids": [acc_id]})
        assert r.status_code == 422
        assert r.json()["error"]["message"] == f"account_ids: account {acc_id} is disabled"
    finally:
        with session_scope(engine) as s:
            acc = s.get(MarketplaceAccount, acc_id)
            acc.enabled = True
            s.add(acc)


async def test_existing_accounts_still_start_a_reconcile(stack: Stack, api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/stock/reconciles", json={"account_ids": [1, 2]})
    assert r.status_code == 202, r.text
    now = utcnow()
    assert await _started(stack, "/api/v1/stock/reconciles", [1, 2], [now - timedelta(minutes=1), now])
    client = await stack.app.state.temporal.get()
    desc = await client.get_workflow_handle(r.json()["id"]).describe()
    assert desc.status is not None and desc.status.name == "RUNNING"


@pytest.mark.parametrize("hours", [1e308, 1e8, 24 * 365 + 1, 0, -1])
async def test_a_policy_timeout_no_deadline_can_hold_is_refused(api: httpx.AsyncClient, hours: float) -> None:
    before = (await api.get("/api/v1/decision-policies")).json()
    r = await api.put(
        "/api/v1/decision-policies",
        json={"decision_type": "price_change", "mode": "semi-auto", "timeout_hours": hours},
    )
    assert r.status_code == 422, r.text
    assert "body.timeout_hours" in [d["location"] for d in r.json()["error"]["details"]]
    assert (await api.get("/api/v1/decision-policies")).json() == before
    ok = await api.put(
        "/api/v1/decision-policies",
        json={"decision_type": "price_change", "mode": "semi-auto", "timeout_hours": 24 * 365},
    )
    assert ok.status_code == 200 and ok.json()["timeout_hours"] == 24 * 365
