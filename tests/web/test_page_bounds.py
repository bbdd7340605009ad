"""The approver pages take numbers from query strings and forms too: out of range or not a number is a 400 page that
says so, never a 500 (an offset of 2**64 reached SQLite; a version of "²" passed isdigit() and broke int())."""

from __future__ import annotations

import httpx
import pytest

from tests.web.helpers import add_users, form_token, login


@pytest.fixture
async def web(api_client: httpx.AsyncClient) -> httpx.AsyncClient:
    add_users(api_client.app.state.engine, ("alice", "approver"))  # type: ignore[attr-defined]
    await login(api_client, "alice")
    return api_client


@pytest.mark.parametrize("query", [f"offset={2**64}", "offset=-1", "offset=abc"])
async def test_queue_numbers_out_of_range_are_a_400_page(web: httpx.AsyncClient, query: str) -> None:
    r = await web.get(f"/approvals?{query}")
    assert r.status_code == 400, r.text[:300]
    assert "Invalid request" in r.text


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000, "0", "-1"])
async def test_a_bulk_selection_with_a_bad_version_is_a_400_page(
    web: httpx.AsyncClient, version: str
) -> None:
    token = await form_token(web)
    r = await web.post("/approvals/bulk", data={"csrf_token": token, "items": [f"d1:{version}"]})
    assert r.status_code == 400, r.text[:300]
    assert "The selection was not understood" in r.text


@pytest.mark.parametrize("version", [str(2**64), "0"])
async def test_a_decision_form_with_a_version_out_of_range_is_a_400_page(
    web: httpx.AsyncClient, version: str
) -> None:
    token = await form_token(web)
    r = await web.post(
        "/approvals/d1/decide", data={"csrf_token": token, "action": "approve", "version": version}
    )
    assert r.status_code == 400, r.text[:300]
    assert "version" in r.text
