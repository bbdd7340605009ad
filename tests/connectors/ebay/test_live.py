"""Against the sandbox on a real port: signed notifications delivered over HTTP, and timeouts on real sockets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.errors import TransportError, WebhookRejected
from connectors.marketplace.types import QuantityUpdate
from sandboxes.ebay.signing import signature_header


async def _wait_for(got: list, n: int) -> None:
    for _ in range(200):
        if len(got) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {n} webhook deliveries, got {len(got)}")


async def test_order_notification_signature_accepted_and_forgeries_refused(
    live_ebay, receiver, listings
) -> None:
    url, got = receiver
    await live_ebay.seed(listings(1, quantity=4))
    (await live_ebay.call("PUT", "/_sandbox/webhooks", json={"url": url})).raise_for_status()
    order = (
        await live_ebay.call("POST", "/_sandbox/orders", json={"sku": "SKU-000000", "quantity": 3})
    ).json()
    await _wait_for(got, 1)
    headers, body = got[0]
    adapter = live_ebay.adapter()

    event = adapter.verify_webhook(headers, body)
    assert (event.kind, event.topic) == ("order_created", "ORDER_CONFIRMATION")
    assert event.payload["notification"]["data"]["orderId"] == order["orderId"]
    assert (event.sku, event.quantity) == ("SKU-000000", 3)
    assert event.event_id == json.loads(body)["notification"]["notificationId"]

    tampered = body.replace(b'"quantity":3', b'"quantity":1')
    assert tampered != body
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(headers, tampered)
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({k: v for k, v in headers.items() if k != "x-ebay-signature"}, body)
    intruder = ec.generate_private_key(ec.SECP256R1())
    forged = {**headers, "x-ebay-signature": signature_header(body, key=intruder)}  # right kid, wrong key
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(forged, body)
    unknown_kid = {**headers, "x-ebay-signature": signature_header(body, kid="someone-else")}
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(unknown_kid, body)


async def test_configured_public_key_in_ebays_one_line_pem_form(live_ebay) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    one_line = pem.decode().replace("\n", "")  # what GET /commerce/notification/v1/public_key/{kid} returns
    adapter = live_ebay.adapter(notification_public_keys={"prod-kid": one_line})
    body = json.dumps(
        {
            "metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION"},
            "notification": {"notificationId": "n-1", "data": {}},
        }
    ).encode()
    event = adapter.verify_webhook(
        {"X-EBAY-SIGNATURE": signature_header(body, key=key, kid="prod-kid")}, body
    )
    assert (event.kind, event.event_id) == ("other", "n-1")
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({"X-EBAY-SIGNATURE": base64.b64encode(b"not json").decode()}, body)


async def test_challenge_response_is_sha256_of_code_token_endpoint(live_ebay) -> None:
    endpoint = "https://merchflow.example/api/v1/webhooks/ebay/main"
    adapter = live_ebay.adapter(notification_endpoint=endpoint)
    answer = adapter.challenge_response("a8628072-3d33-45ee-9004-bee86830a22d")
    token = "merchflow-sandbox-ebay-verification-token-0123456789"
    expected = hashlib.sha256(
        ("a8628072-3d33-45ee-9004-bee86830a22d" + token + endpoint).encode()
    ).hexdigest()
    assert answer == {"challengeResponse": expected}
    assert adapter.challenge_response("other")["challengeResponse"] != expected


async def test_a_timed_out_write_is_raised_once_as_retryable_with_unknown_outcome(
    live_ebay, listings
) -> None:
    await live_ebay.seed(listings(2))
    adapter = live_ebay.adapter(timeout=0.5, max_retries=1)
    await adapter.client.user_tokens.token()
    await live_ebay.faults(timeout_rate=1.0, timeout_seconds=2)
    with pytest.raises(TransportError) as info:
        await adapter.client.bulk_update_price_quantity(
            [{"sku": "SKU-000000", "shipToLocationAvailability": {"quantity": 1}}], key="t-1"
        )
    assert info.value.retryable and info.value.outcome_unknown
    rows = await live_ebay.requests("/sell/inventory/v1/bulk_update_price_quantity")
    assert [r["fault"] for r in rows] == ["timeout"]  # not resent: it may have been applied
    await live_ebay.faults(timeout_rate=0.0)
    result = await adapter.set_quantities(
        [QuantityUpdate(sku="SKU-000000", quantity=1)], idempotency_key="t-2"
    )
    assert result.outcomes[0].status == "applied"


async def test_bulk_chunk_that_keeps_timing_out_is_failed_not_lost(live_ebay, listings) -> None:
    await live_ebay.seed(listings(30))
    adapter = live_ebay.adapter(timeout=0.5, max_retries=0)
    await adapter.client.user_tokens.token()
    await live_ebay.faults(timeout_rate=1.0, timeout_seconds=1)
    result = await adapter.set_quantities(
        [QuantityUpdate(sku=f"SKU-{i:06d}", quantity=1) for i in range(30)], idempotency_key="t-3"
    )
    assert {o.status for o in result.outcomes} == {"failed"} and len(result.outcomes) == 30
    assert all(o.retryable for o in result.outcomes)
    await live_ebay.faults(timeout_rate=0.0)
