"""The four sandboxes answer their test extras (/_sandbox/seed, /_sandbox/listings, /_sandbox/orders) in one shape
(sandboxes/common/extras.py), so tests, benchmarks and the demo drive any of them alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from merchflow.settings import Settings
from sandboxes.run import MARKETPLACE_SANDBOXES, load_app

COMMON_LISTING_KEYS = {"sku", "title", "price", "currency", "quantity", "status", "active"}
COMMON_ORDER_KEYS = {"order_id", "sku", "quantity", "remaining", "created"}


@pytest.fixture(params=sorted(MARKETPLACE_SANDBOXES))
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
    assert Decimal(ex["price"]) == Decimal("12.50")  # a decimal string
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


# one read and one write of each marketplace API (unauthenticated: the answer does not matter, the record does)
API_CALLS: dict[
    str, tuple[tuple[str, str, dict[str, Any] | None], tuple[str, str, dict[str, Any] | None]]
] = {
    "amazon": (
        ("GET", "/listings/2021-08-01/items/SELLER/SKU-1", None),
        ("PATCH", "/listings/2021-08-01/items/SELLER/SKU-1", {"productType": "PRODUCT", "patches": []}),
    ),
    "ebay": (
        ("GET", "/sell/inventory/v1/inventory_item", None),
        ("POST", "/sell/inventory/v1/bulk_update_price_quantity", {"requests": []}),
    ),
    "shopify": (
        ("POST", "/admin/api/2025-01/graphql.json", {"query": "{ shop { name } }"}),
        (
            "POST",
            "/admin/api/2025-01/graphql.json",
            {"query": "mutation { productUpdate { userErrors { message } } }"},
        ),
    ),
    "woocommerce": (
        ("GET", "/wp-json/wc/v3/products", None),
        ("POST", "/wp-json/wc/v3/products/batch", {"update": []}),
    ),
}


def _marketplace(c: httpx.AsyncClient) -> str:
    return str(c._transport.app.state.sandbox.name)  # type: ignore[attr-defined]


async def test_requests_records_every_api_request_reads_included(sandbox: httpx.AsyncClient) -> None:
    (read, write) = API_CALLS[_marketplace(sandbox)]
    for method, path, body in (read, write):
        await sandbox.request(method, path + "?probe=1", json=body)
    await sandbox.get("/_sandbox/health")  # the inspection API itself is never recorded
    rows = (await sandbox.get("/_sandbox/requests")).json()
    assert [(r["method"], r["path"], r["query"], r["mutating"]) for r in rows] == [
        (read[0], read[1], "probe=1", 0),
        (write[0], write[1], "probe=1", 1),
    ]
    assert all(r["status"] for r in rows)  # the answer's status is recorded for reads too
    writes = (await sandbox.get("/_sandbox/requests", params={"mutating": "true"})).json()
    assert [r["path"] for r in writes] == [write[1]]


async def test_fault_seed_is_set_at_start_up(tmp_path: Any) -> None:
    """MERCHFLOW_SANDBOX__SEED: the same seed and the same requests give the same faults, in every sandbox."""
    for name in sorted(MARKETPLACE_SANDBOXES):
        runs = []
        for run in range(2):
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                environment="test",
                data_dir=tmp_path / f"{name}-{run}",
                seed_demo=False,
                sandbox={"error_rate": 0.5, "seed": 1234, "rate_limits": False},  # type: ignore[arg-type]
            )
            app = load_app(name, settings)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
                assert (await c.get("/_sandbox/faults")).json()["seed"] == 1234
                method, path, body = API_CALLS[name][0]
                runs.append(
                    [(await c.request(method, path, json=body)).status_code == 503 for _ in range(30)]
                )
            app.state.sandbox.store.close()
        assert runs[0] == runs[1] and 5 < sum(runs[0]) < 25, name
