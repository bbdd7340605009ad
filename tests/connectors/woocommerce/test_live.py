"""Against the sandbox on a real port: signed webhooks delivered over HTTP, and timeouts."""

from __future__ import annotations

import json

import pytest

from connectors.errors import TransportError, WebhookRejected
from connectors.marketplace.types import QuantityUpdate
from connectors.marketplace.woocommerce.webhooks import signature
from tests.connectors.woocommerce.conftest import Receiver, Sandbox
from tests.connectors.woocommerce.contract import problems


async def test_order_webhooks_are_signed_like_woo_and_verified(
    live_sandbox: tuple[Sandbox, Receiver],
) -> None:
    sandbox, receiver = live_sandbox
    mp = sandbox.adapter()
    r = await sandbox.buy("DEMO-BOOK-03", 2)
    assert r.status_code == 201
    await receiver.wait_for(2)
    topics = {h["x-wc-webhook-topic"]: (h, body) for h, body in receiver.deliveries}
    assert set(topics) == {"order.created", "product.updated"}
    headers, body = topics["order.created"]
    assert headers["x-wc-webhook-resource"] == "order" and headers["x-wc-webhook-event"] == "created"
    assert headers["x-wc-webhook-source"] == sandbox.base_url + "/"
    assert problems("order", json.loads(body)) == []
    event = mp.verify_webhook(headers, body)
    assert event.kind == "order_created" and event.order is not None
    assert event.order.lines[0].sku == "DEMO-BOOK-03" and event.order.lines[0].quantity == 2
    assert event.event_id.startswith(headers["x-wc-webhook-delivery-id"])
    p_headers, p_body = topics["product.updated"]
    assert problems("product", json.loads(p_body)) == []
    qty = mp.verify_webhook(p_headers, p_body)
    assert (qty.kind, qty.sku, qty.quantity) == ("quantity_changed", "DEMO-BOOK-03", 7)
    # a redelivery of the same body dedupes to the same event id
    assert mp.verify_webhook(headers, body).event_id == event.event_id

    forged = body.replace(b'"quantity":2', b'"quantity":20')
    with pytest.raises(WebhookRejected):
        mp.verify_webhook(headers, forged)
    with pytest.raises(WebhookRejected):
        mp.verify_webhook(
            {**headers, "x-wc-webhook-signature": signature(body, "someone-elses-secret")}, body
        )
    missing = {k: v for k, v in headers.items() if k != "x-wc-webhook-signature"}
    with pytest.raises(WebhookRejected):
        mp.verify_webhook(missing, body)
    # the unsigned ping Woo sends when a webhook is saved must be answered 2xx, so it is accepted as "other"
    ping = mp.verify_webhook({"content-type": "application/x-www-form-urlencoded"}, b"webhook_id=3")
    assert (ping.kind, ping.topic, ping.event_id) == ("other", "ping", "ping:3")


async def test_cancel_emits_order_updated_and_restock(live_sandbox: tuple[Sandbox, Receiver]) -> None:
    sandbox, receiver = live_sandbox
    mp = sandbox.adapter()
    order = (await sandbox.buy("DEMO-MUG-02", 1)).json()
    await receiver.wait_for(2)
    assert (await mp.cancel_order(str(order["id"]), reason="oos", idempotency_key="k")).status == "applied"
    await receiver.wait_for(4)
    events = [mp.verify_webhook(h, b) for h, b in receiver.deliveries[2:]]
    kinds = sorted(e.kind for e in events)
    assert kinds == ["order_cancelled", "quantity_changed"]
    assert next(e for e in events if e.kind == "quantity_changed").quantity == 240


async def test_timeouts_fail_writes_retryably_and_are_not_resent(
    live_sandbox: tuple[Sandbox, Receiver],
) -> None:
    sandbox, _ = live_sandbox
    mp = sandbox.adapter(timeout=0.5)
    await mp.resolve_skus(["DEMO-LAMP-04"])
    await sandbox.faults(timeout_rate=0.5, timeout_seconds=2.0, seed=1)  # seed 1: the first roll is a timeout
    result = await mp.set_quantities([QuantityUpdate(sku="DEMO-LAMP-04", quantity=3)], idempotency_key="t")
    assert (result.outcomes[0].status, result.outcomes[0].retryable) == ("failed", True)
    sent = await sandbox.requests(mutating=True)
    assert [r["fault"] for r in sent] == ["timeout"]  # the write went out once
    await sandbox.faults(timeout_rate=0.0)
    result = await mp.set_quantities([QuantityUpdate(sku="DEMO-LAMP-04", quantity=3)], idempotency_key="t:2")
    assert result.outcomes[0].status == "applied"
    down = sandbox.adapter(timeout=0.3, options={"max_retries": 1})
    await sandbox.faults(timeout_rate=0.0)
    await down.resolve_skus(["DEMO-LAMP-04"])
    await sandbox.faults(timeout_rate=1.0, timeout_seconds=2.0)
    with pytest.raises(TransportError):  # a lookup that cannot complete fails the call (retryable)
        await down.resolve_skus(["DEMO-MUG-02"])
    result = await down.set_quantities([QuantityUpdate(sku="DEMO-LAMP-04", quantity=4)], idempotency_key="t2")
    assert (result.outcomes[0].status, result.outcomes[0].retryable) == ("failed", True)
    await sandbox.faults(timeout_rate=0.0)
    assert (await sandbox.truth("DEMO-LAMP-04"))["DEMO-LAMP-04"]["quantity"] == 3
