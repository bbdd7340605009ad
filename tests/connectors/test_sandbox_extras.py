"""The four sandboxes answer their test extras (/_sandbox/seed, /_sandbox/listings, /_sandbox/orders) in one shape
(sandboxes/common/extras.py), so tests, benchmarks and the demo drive any of them alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from merchflow.settings import Settings
from sandboxes.run import SANDBOXES, load_app

COMMON_LISTING_KEYS = {"sku", "title", "price", "currency", "quantity", "status", "active"}
COMMON_ORDER_KEYS = {"order_id", "sku", "quantity", "remaining", "created"}


@pytest.fixture(params=sorted(SANDBOXES))
async def sandbox(request: pytest.FixtureRequest, tmp_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = load_app(request.param, tmp_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test") as c:
        (await c.put("/_sandbox/webhooks", json={"url": None})).raise_for_status()  # no engine to deliver to
        yield c
    app.state.sandbox.store.close()


async def _listing(c: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    r = await c.get("/_sandbox/listings", params={"sku": sku})
    assert r.status_code == 200
    (row,) = r.json()["listings"]
    return dict(row)


async def test_seed_and_listings_have_one_shape(sandbox: httpx.AsyncClient) -> None:
    listings = [
        {"sku": f"EX-{i}", "title": f"Extra {i}", "price": "12.50", "quantity": 4 + i, "identifiers": {}}
        for i in range(3)
    ]
    r = await sandbox.post("/_sandbox/seed", json={"listings": listings, "replace": False})
    assert r.status_code == 200 and r.json()["seeded"] == 3

    body = (await sandbox.get("/_sandbox/listings", params={"limit": 1000})).json()
    assert set(body) == {"listings"}
    rows = {row["sku"]: row for row in body["listings"]}
    assert {"EX-0", "EX-1", "EX-2", "DEMO-MUG-02"} <= set(rows)  # the demo catalog is seeded on start
    assert all(COMMON_LISTING_KEYS <= set(row) for row in rows.values())
    ex = rows["EX-1"]
    assert (ex["title"], ex["quantity"], ex["currency"], ex["active"]) == ("Extra 1", 5, "USD", True)
    assert Decimal(ex["price"]) == Decimal(
        "12.50"
    )  # a decimal string (Amazon's sandbox normalises it to 12.5)
    assert await _listing(sandbox, "EX-2") == rows["EX-2"]


async def test_orders_have_one_shape_and_never_buy_twice(sandbox: httpx.AsyncClient) -> None:
    before = (await _listing(sandbox, "DEMO-MUG-02"))["quantity"]
    r = await sandbox.post("/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 3, "order_id": "x-1"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert COMMON_ORDER_KEYS <= set(first)
    assert (first["sku"], first["quantity"], first["remaining"], first["created"]) == (
        "DEMO-MUG-02",
        3,
        before - 3,
        True,
    )
    assert isinstance(first["order_id"], str) and first["order_id"]

    again = await sandbox.post(
        "/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 3, "order_id": "x-1"}
    )
    assert again.status_code == 200, again.text
    common = {k: first[k] for k in COMMON_ORDER_KEYS}
    assert {k: again.json()[k] for k in COMMON_ORDER_KEYS} == {**common, "created": False}
    assert (await _listing(sandbox, "DEMO-MUG-02"))["quantity"] == before - 3  # the repeat bought nothing

    book = (await _listing(sandbox, "DEMO-BOOK-03"))["quantity"]
    short = await sandbox.post("/_sandbox/orders", json={"sku": "DEMO-BOOK-03", "quantity": book + 1})
    assert short.status_code == 409
    assert (await _listing(sandbox, "DEMO-BOOK-03"))["quantity"] == book
    unknown = await sandbox.post("/_sandbox/orders", json={"sku": "NO-SUCH-SKU", "quantity": 1})
    assert unknown.status_code == 404
