"""SP-API notifications as signed HTTP deliveries.

Amazon delivers notifications (ORDER_CHANGE, LISTINGS_ITEM_MFN_QUANTITY_CHANGE, ANY_OFFER_CHANGED, ...) only to an
SQS queue or EventBridge, never to an HTTP endpoint, and signs nothing on the way. merchflow therefore expects a
small relay (a Lambda on the queue / an EventBridge API destination) that POSTs each notification body unchanged to
the engine's webhook URL with `X-Merchflow-Relay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>." + body)>`. The timestamp bounds replays; the NotificationId is the dedupe key. The sandbox signs the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.errors import WebhookRejected
from connectors.marketplace.types import Order, OrderLine, WebhookEvent, WebhookKind

SIGNATURE_HEADER = "x-merchflow-relay-signature"
DEFAULT_TOLERANCE_SECONDS = 300.0

_CREATED = {"Pending", "Unshipped", "PendingAvailability"}
_UPDATED = {"PartiallyShipped", "Shipped", "InvoiceUnconfirmed", "Unfulfillable"}


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get(SIGNATURE_HEADER)
    if not raw:
        raise WebhookRejected("missing relay signature", marketplace="amazon")
    parts = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
    t = parts.get("t", "")
    # a timestamp is a handful of ASCII digits; anything else (or a 4,000-digit number) is not one
    if not (t.isascii() and t.isdigit() and len(t) <= 12):
        raise WebhookRejected("malformed relay signature", marketplace="amazon")
    ts = int(t)
    expected = sign(secret, body, ts).split(",", 1)[1].removeprefix("v1=").encode()
    # compared as bytes: compare_digest refuses str holding non-ASCII characters (a TypeError, i.e. a 500)
    if not hmac.compare_digest(expected, parts.get("v1", "").encode("utf-8", "surrogateescape")):
        raise WebhookRejected("relay signature does not match", marketplace="amazon")
    if abs((time.time() if now is None else now) - ts) > tolerance:
        raise WebhookRejected("relay signature timestamp outside the tolerance", marketplace="amazon")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_notification(body: bytes, *, account: str) -> WebhookEvent:
    try:
        doc = json.loads(body)
        kind_name = doc["NotificationType"]
        event_id = doc["NotificationMetadata"]["NotificationId"]
        payload = doc["Payload"]
    except (ValueError, KeyError, TypeError):
        raise WebhookRejected("not an SP-API notification", marketplace="amazon") from None
    try:
        if kind_name == "ORDER_CHANGE":
            return _order_change(doc, payload, event_id, account)
        if kind_name == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE":
            return WebhookEvent(
                marketplace="amazon",
                account=account,
                event_id=event_id,
                kind="quantity_changed",
                topic=kind_name,
                sku=payload["Sku"],
                quantity=int(payload["Quantity"]),
                payload=doc,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise WebhookRejected(f"malformed {kind_name} payload: {exc}", marketplace="amazon") from None
    return WebhookEvent(
        marketplace="amazon", account=account, event_id=event_id, kind="other", topic=kind_name, payload=doc
    )


def _order_change(doc: dict[str, Any], payload: dict[str, Any], event_id: str, account: str) -> WebhookEvent:
    change = payload["OrderChangeNotification"]
    summary = change.get("Summary") or {}
    status = summary.get("OrderStatus", "")
    kind: WebhookKind = "order_updated"
    items = summary.get("OrderItems") or []
    if status == "Canceled" or any(i.get("IsBuyerRequestedCancel") for i in items):
        kind = "order_cancelled"
    elif status in _CREATED:
        kind = "order_created"
    elif status not in _UPDATED:
        kind = "order_updated"
    changed_at = _ts(change["OrderChangeTrigger"]["TimeOfOrderChange"])
    order = Order(
        marketplace="amazon",
        account=account,
        order_id=change["AmazonOrderId"],
        status=status,
        created_at=_ts(summary["PurchaseDate"]) if summary.get("PurchaseDate") else changed_at,
        updated_at=changed_at,
        lines=[
            OrderLine(sku=i["SellerSKU"], quantity=int(i["Quantity"]), line_id=i.get("OrderItemId"))
            for i in items
            if int(i.get("Quantity", 0)) > 0
        ],
        cancelled=kind == "order_cancelled",
    )
    return WebhookEvent(
        marketplace="amazon",
        account=account,
        event_id=event_id,
        kind=kind,
        topic="ORDER_CHANGE",
        order=order,
        payload=doc,
    )
