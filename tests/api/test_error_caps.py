"""Error answers stay small whatever the input: a CSV header of 100,000 repeated columns, a request with 100,000
invalid fields - the first problems are listed, then how many more there were (it was a 3.7 MB 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.errors import MAX_ERROR_DETAILS
from domain.catalog.rows import MAX_HEADER_ISSUES, check_header
from tests.api.conftest import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stack.app)
    headers = {"Authorization": f"Bearer {stack.admin}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


@pytest.mark.parametrize(
    "header",
    [
        "sku,name,cost," + ",".join(["sku"] * 100_000),  # one name, 100,001 times
        "sku,name,cost," + ",".join(f"c{i % 50_000}" for i in range(100_000)),  # 50,000 names, each twice
    ],
    ids=["one column repeated", "many columns repeated"],
)
async def test_a_header_of_100000_duplicate_columns_gets_a_small_422(
    api: httpx.AsyncClient, header: str
) -> None:
    body = (header + "\nA,Mug,1\n").encode()
    r = await api.post("/api/v1/catalog/imports", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text[:300]
    assert len(r.content) < 8_000, len(r.content)
    error = r.json()["error"]
    assert error["code"] == "missing_columns"
    assert "appears" in error["message"]
    assert error["details"]["columns"] == 100_003
    assert len(error["details"]["header"]) <= 50


def test_header_issues_are_one_per_name_and_capped() -> None:
    check = check_header(["sku", "name", "cost", *(["sku"] * 99), *(f"x{i}" for i in range(500)), *[""] * 30])
    duplicates = [i for i in check.issues if i.code == "duplicate_column"]
    assert [i.message for i in duplicates] == ["column 'sku' appears 100 times"]
    unknown = [i for i in check.issues if i.code == "unknown_column"]
    assert len(unknown) == 2 * MAX_HEADER_ISSUES + 2  # 20 unnamed + count, 20 unknown + count
    assert unknown[-1].message == f"... and {500 - MAX_HEADER_ISSUES} more unknown columns are ignored"
    assert check.columns[:3] == ("sku", "name", "cost")


async def test_a_request_with_100000_invalid_fields_lists_the_first_and_counts_the_rest(
    api: httpx.AsyncClient,
) -> None:
    items = [{"decision_id": f"d{i}", "expected_version": "not a number"} for i in range(100_000)]
    r = await api.post("/api/v1/decisions/bulk/decide", json={"action": "approve", "items": items})
    assert r.status_code == 422
    assert len(r.content) < 8_000, len(r.content)
    details = r.json()["error"]["details"]
    assert len(details) == MAX_ERROR_DETAILS + 1
    assert details[0]["location"] == "body.items.0.expected_version"
    assert details[-1]["message"] == f"... and {100_000 - MAX_ERROR_DETAILS} more problems"
