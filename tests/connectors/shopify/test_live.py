"""Against the sandbox served by a real uvicorn on a free port: signed webhooks delivered over HTTP, timeouts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from connectors.errors import WebhookRejected
from connectors.marketplace.shopify.adapter import ShopifyMarketplace
from connectors.marketplace.types import QuantityUpdate
from sandboxes.shopify.app import CLIENT_SECRET
from sandboxes.shopify.serve import ThreadedServer, make_app
from tests.connectors.shopify.conftest import Recorder, account


class Inbox:
    def __init__(self) -> None:
        self.items: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks")
        async def hook(request: Request) -> dict[str, bool]:
            body = await request.body()
            with self.lock:
                self.items.append((dict(request.headers), body))
            return {"ok": True}

        return app

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.items) >= n:
                    return list(self.items)
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(self.items)} of {n} webhooks arrived")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    box = Inbox()
    with ThreadedServer(box.app()) as server:
        yield box, f"{server.url}/hooks"


@pytest.fixture
def live(tmp_path: Path, inbox: tuple[Inbox, str]) -> Iterator[str]:
    with ThreadedServer(make_app(tmp_path, rate_limits=True, webhook_url=inbox[1])) as server:
        yield server.url


def sign(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def test_webhooks_are_signed_like_shopify_and_verified(
    make_adapter, live: str, inbox: tuple[Inbox, str]
) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    rec = Recorder(httpx.AsyncHTTPTransport())
    a: ShopifyMarketplace = make_adapter(cfg=account(base_url=live), transport=rec)
    await (
        a.list_listings()
    )  # learns the SKU of each inventory item (inventory webhooks carry only the item id)
    async with httpx.AsyncClient(base_url=live) as c:
        r = await c.post("/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 2, "order_id": "shop-1"})
        assert r.status_code == 201, r.text
    delivered = await box.wait_for(2)
    events = [a.verify_webhook(h, body) for h, body in delivered]
    by_kind = {e.kind: e for e in events}
    assert set(by_kind) == {"order_created", "quantity_changed"}
    order = by_kind["order_created"]
    assert order.topic == "orders/create" and order.order is not None
    assert [(ln.sku, ln.quantity) for ln in order.order.lines] == [("DEMO-MUG-02", 2)]
    assert order.order.order_id == r.json()["order_id"]
    qty = by_kind["quantity_changed"]
    assert (qty.topic, qty.sku, qty.quantity) == ("inventory_levels/update", "DEMO-MUG-02", 238)
    assert len({e.event_id for e in events}) == 2  # X-Shopify-Webhook-Id: the dedupe key
    assert rec.problems() == []


async def test_forged_or_tampered_webhooks_are_refused(adapter: ShopifyMarketplace) -> None:
    body = json.dumps({"id": 1, "line_items": [], "created_at": "2025-01-10T10:00:00Z"}).encode()
    good = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "w-1",
        "X-Shopify-Hmac-Sha256": sign(body),
    }
    assert adapter.verify_webhook(good, body).event_id == "w-1"
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({**good, "X-Shopify-Hmac-Sha256": sign(body, "someone-elses-secret")}, body)
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(good, body.replace(b'"id": 1', b'"id": 2'))
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({k: v for k, v in good.items() if k != "X-Shopify-Hmac-Sha256"}, body)
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({k: v for k, v in good.items() if k != "X-Shopify-Webhook-Id"}, body)
    lower = {k.lower(): v for k, v in good.items()}  # header names arrive in any case
    assert adapter.verify_webhook(lower, body).kind == "order_created"


async def test_timeouts_fail_the_items_retryably_and_nothing_is_applied(make_adapter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with ThreadedServer(make_app(tmp_path, rate_limits=False)) as server:
        cfg = account(base_url=server.url, max_retries=1)
        cfg.timeout_seconds = 0.5
        rec = Recorder(httpx.AsyncHTTPTransport())
        a: ShopifyMarketplace = make_adapter(cfg=cfg, transport=rec)
        await a.list_listings()
        async with httpx.AsyncClient(base_url=server.url) as c:
            await c.put(
                "/_sandbox/faults", json={"timeout_rate": 1.0, "timeout_seconds": 1.0, "rate_limits": False}
            )
            updates = [
                QuantityUpdate(sku="DEMO-LAMP-04", quantity=1),
                QuantityUpdate(sku="DEMO-YOGA-07", quantity=2),
            ]
            result = await a.set_quantities(updates, idempotency_key="slow")
            assert [(o.status, o.code) for o in result.outcomes] == [("failed", "TransportError")] * 2
            await c.put("/_sandbox/faults", json={"rate_limits": False})
            assert (await c.get("/_sandbox/effects")).json() == []
            statuses: Any = [
                r["fault"] for r in (await c.get("/_sandbox/requests", params={"mutating": "true"})).json()
            ]
            assert statuses == ["timeout"]  # a mutation that may have been applied is not sent again
            retried = await a.set_quantities(updates, idempotency_key="slow")
            assert {o.status for o in retried.outcomes} == {"applied"}
            assert len((await c.get("/_sandbox/effects")).json()) == 2
        assert rec.problems() == []
