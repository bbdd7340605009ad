"""The sandbox answers like WooCommerce: auth errors, parameter validation, paging headers, persistence."""

from __future__ import annotations

from pathlib import Path

import httpx

from merchflow.settings import SandboxSettings, Settings
from sandboxes.woocommerce.app import create_app
from tests.connectors.woocommerce.conftest import Sandbox


async def test_authentication_errors_in_woo_shape(sandbox: Sandbox) -> None:
    with sandbox.recorder.expecting_violations() as caught:
        r = await sandbox.call("GET", "/wp-json/wc/v3/products")
        assert r.status_code == 401 and r.json() == {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 401},
        }
        r = await sandbox.call("POST", "/wp-json/wc/v3/products/batch", json={"update": []})
        assert r.json()["code"] == "woocommerce_rest_cannot_batch"
    assert len(caught) == 2  # the contract flags requests without credentials
    r = await sandbox.call("GET", "/wp-json/wc/v3/orders", auth=("ck_nope", "cs_nope"))
    assert (r.status_code, r.json()["message"]) == (401, "Consumer key is invalid.")
    r = await sandbox.call(
        "GET",
        "/wp-json/wc/v3/orders",
        params={"consumer_key": "ck_5a4db1e0c2f34f0e9d6b7a8c1e2f3a4b5c6d7e8f", "consumer_secret": "cs_x"},
    )
    assert r.json()["message"] == "Consumer secret is invalid."


async def test_parameters_are_validated_like_wp_rest(sandbox: Sandbox) -> None:
    with sandbox.recorder.expecting_violations() as caught:
        r = await sandbox.woo("GET", "/products", params={"per_page": 101})
    assert r.status_code == 400
    assert r.json()["code"] == "rest_invalid_param"
    assert r.json()["data"]["params"] == {
        "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"
    }
    assert caught  # the contract knows per_page <= 100 too
    with sandbox.recorder.expecting_violations():
        r = await sandbox.woo("GET", "/products/abc")
        assert (r.status_code, r.json()["code"]) == (404, "rest_no_route")
    r = await sandbox.woo("GET", "/products/999999")
    assert (r.status_code, r.json()["code"]) == (404, "woocommerce_rest_product_invalid_id")
    r = await sandbox.woo("PUT", "/products/999999", json={"regular_price": "1.00"})
    assert (r.status_code, r.json()["code"]) == (400, "woocommerce_rest_product_invalid_id")


async def test_paging_headers_and_links(sandbox: Sandbox) -> None:
    r = await sandbox.woo(
        "GET", "/products", params={"per_page": 5, "page": 2, "orderby": "id", "order": "asc"}
    )
    assert r.headers["x-wp-total"] == "12" and r.headers["x-wp-totalpages"] == "3"
    links = r.headers["link"]
    assert 'page=1>; rel="prev"' in links and 'page=3>; rel="next"' in links
    assert "consumer" not in links
    assert [p["id"] for p in r.json()] == [6, 7, 8, 9, 10]
    last = await sandbox.woo("GET", "/products", params={"per_page": 5, "page": 4})
    assert last.json() == [] and last.headers["x-wp-totalpages"] == "3"
    by_sku = await sandbox.woo(
        "GET",
        "/products",
        params={"sku": "DEMO-MUG-02,DEMO-LAMP-04,NOPE", "_fields": "id,sku,type,parent_id"},
    )
    assert sorted(p["sku"] for p in by_sku.json()) == ["DEMO-LAMP-04", "DEMO-MUG-02"]
    assert all(set(p) == {"id", "sku", "type", "parent_id"} for p in by_sku.json())  # WP's _fields


async def test_state_persists_and_demo_seed_is_idempotent(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path,
        sandbox=SandboxSettings(rate_limits=False),
    )
    first = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://t") as c:
        assert (
            await c.post("/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 40})
        ).status_code == 201
    first.state.sandbox.store.close()
    second = create_app(
        settings
    )  # same data_dir: the restart keeps orders and stock, and seeds nothing again
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t") as c:
        rows = (await c.get("/_sandbox/listings")).json()["listings"]
        assert len(rows) == 12
        assert next(r for r in rows if r["sku"] == "DEMO-MUG-02")["quantity"] == 200
    second.state.sandbox.store.close()
    assert (tmp_path / "sandboxes" / "woocommerce.db").exists()
