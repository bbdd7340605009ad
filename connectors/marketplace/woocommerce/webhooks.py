"""WooCommerce webhook verification.

Woo signs the raw body: X-WC-Webhook-Signature = base64(HMAC-SHA256(body, webhook secret)); the topic is in
X-WC-Webhook-Topic ("order.created", "product.updated", ...). When a webhook is saved Woo first POSTs an unsigned
form body `webhook_id=<n>` and refuses to save the webhook unless it gets a 2xx, so that ping is accepted (it carries
no data).

Dedupe key: Woo's X-WC-Webhook-Delivery-ID is wp_hash(webhook id + current second), so two different events of one
webhook in the same second share it. The event id therefore combines it with the resource id and a hash of the body:
a redelivered event (same body) dedupes, two distinct changes do not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from connectors.errors import WebhookRejected
from connectors.marketplace.types import WebhookEvent, WebhookKind
from connectors.marketplace.woocommerce.mapping import to_order

_PING = re.compile(rb"^webhook_id=(\d+)$")


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _kind(topic: str, payload: dict[str, Any]) -> WebhookKind:
    if topic == "order.created":
        return "order_created"
    if topic == "order.updated":
        return "order_cancelled" if payload.get("status") == "cancelled" else "order_updated"
    if topic in ("product.updated", "product.created") and payload.get("manage_stock") is True:
        return "quantity_changed"
    return "other"


def verify(headers: Mapping[str, str], body: bytes, *, secret: str | None, account: str) -> WebhookEvent:
    h = {k.lower(): v for k, v in headers.items()}
    sent = h.get("x-wc-webhook-signature")
    if sent is None and (ping := _PING.match(body.strip())):
        return WebhookEvent(
            marketplace="woocommerce",
            account=account,
            event_id=f"ping:{ping.group(1).decode()}",
            kind="other",
            topic="ping",
        )
    if not secret:
        raise WebhookRejected(
            "no webhook secret configured for this WooCommerce account", marketplace="woocommerce"
        )
    # compared as bytes: compare_digest refuses str holding non-ASCII characters (a TypeError, i.e. a 500)
    given = (sent or "").strip().encode("utf-8", "surrogateescape")
    if not given or not hmac.compare_digest(given, signature(body, secret).encode()):
        raise WebhookRejected("webhook signature missing or wrong", marketplace="woocommerce")
    topic = h.get("x-wc-webhook-topic", "")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WebhookRejected("webhook body is not JSON", marketplace="woocommerce") from None
    if not isinstance(payload, dict) or not topic:
        raise WebhookRejected("webhook without topic or object body", marketplace="woocommerce")
    kind = _kind(topic, payload)
    delivery = h.get("x-wc-webhook-delivery-id") or "-"
    event_id = f"{delivery}:{payload.get('id', '-')}:{hashlib.sha256(body).hexdigest()[:16]}"
    event = WebhookEvent(
        marketplace="woocommerce", account=account, event_id=event_id, kind=kind, topic=topic, payload=payload
    )
    if kind in ("order_created", "order_updated", "order_cancelled") and "id" in payload:
        event.order = to_order(payload, account=account)
    elif kind == "quantity_changed":
        event.sku = payload.get("sku") or None
        event.quantity = payload.get("stock_quantity")
    return event
