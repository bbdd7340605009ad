"""An account test that outlives its request (no worker, or a slow marketplace) answers 202 with where its report
will be, instead of holding the request open for the workflow's whole timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import Stack


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stack.app)
    headers = {"Authorization": f"Bearer {stack.admin}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c:
        yield c


async def test_a_test_without_a_worker_is_202_with_its_report_url(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    accounts = (await client.get("/api/v1/accounts")).json()
    account_id = accounts["items"][0]["id"]
    r = await client.post(f"/api/v1/accounts/{account_id}/test", timeout=30)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "running"
    assert started["report_url"] == f"/api/v1/accounts/{account_id}/tests/{started['id']}"
    again = await client.get(started["report_url"])
    assert again.status_code == 202 and again.json()["id"] == started["id"]
    assert (await client.get(f"/api/v1/accounts/{account_id}/tests/account-test-999-x")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{account_id}/tests/{started['id']}x")).status_code == 404
