"""eBay Notification API push messages: ECDSA signature check and the endpoint-validation challenge.

eBay sends `X-EBAY-SIGNATURE: base64(JSON {"alg": "ecdsa", "kid": <key id>, "signature": base64(DER ECDSA),
"digest": "SHA1"})` over the raw request body. Production code fetches the public key for `kid` from
GET /commerce/notification/v1/public_key/{kid}; this adapter does no network I/O on the webhook path, so the keys
are configured per account (`notification_public_keys`: {kid: PEM}) - the sandbox's key is preconfigured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from connectors.errors import WebhookRejected
from connectors.marketplace.ebay import mapping
from connectors.marketplace.types import Order, WebhookEvent, WebhookKind

SIGNATURE_HEADER = "x-ebay-signature"
TOPIC_KINDS: dict[str, WebhookKind] = {
    "ORDER_CONFIRMATION": "order_created",
}
_DIGESTS = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


def normalise_pem(key: str) -> str:
    """eBay's public_key endpoint returns the PEM on one line; re-wrap it so the PEM loader accepts it."""
    key = key.strip()
    m = re.match(r"-----BEGIN PUBLIC KEY-----(.*)-----END PUBLIC KEY-----", key, re.S)
    if not m:
        return key
    body = re.sub(r"\s+", "", m.group(1))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def decode_signature_header(value: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise WebhookRejected("x-ebay-signature is not base64 JSON", marketplace="ebay") from exc
    if (
        not isinstance(decoded, dict)
        or not decoded.get("kid")
        or not isinstance(decoded.get("signature"), str)
    ):
        raise WebhookRejected("x-ebay-signature lacks kid / signature", marketplace="ebay")
    return decoded


def verify_signature(headers: Mapping[str, str], body: bytes, public_keys: Mapping[str, str]) -> str:
    """Returns the key id that verified the body; raises WebhookRejected otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected("missing x-ebay-signature", marketplace="ebay")
    sig = decode_signature_header(header)
    kid = str(sig["kid"])
    pem = public_keys.get(kid)
    if pem is None:
        raise WebhookRejected(f"unknown signing key {kid!r}", marketplace="ebay")
    if str(sig.get("alg", "ecdsa")).lower() != "ecdsa":
        raise WebhookRejected("unsupported signature algorithm", marketplace="ebay")
    digest = _DIGESTS.get(str(sig.get("digest", "SHA1")).upper())
    if digest is None:
        raise WebhookRejected("unsupported signature digest", marketplace="ebay")
    try:
        key = load_pem_public_key(normalise_pem(pem).encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise WebhookRejected("configured key is not an EC key", marketplace="ebay")
        key.verify(base64.b64decode(sig["signature"]), body, ec.ECDSA(digest()))
    except (InvalidSignature, binascii.Error, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise WebhookRejected("signature does not match the body", marketplace="ebay") from exc
    return kid


def parse_event(body: bytes, account: str) -> WebhookEvent:
    try:
        payload = json.loads(body)
        topic = str(payload["metadata"]["topic"])
        notification = payload["notification"]
        event_id = str(notification["notificationId"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected("not an eBay notification", marketplace="ebay") from exc
    data = notification.get("data") or {}
    quantity = data.get("quantity")
    order = None
    if data.get("orderId"):
        # eBay's ORDER_CONFIRMATION carries ids only, once per line item: the order comes without lines, and the
        # receiver reads the whole order with get_order (a line taken from one notification would miss the others)
        when = mapping.parse_time(notification.get("eventDate"))
        order = Order(
            marketplace="ebay",
            account=account,
            order_id=str(data["orderId"]),
            status="UNKNOWN",
            created_at=when,
            updated_at=when,
            lines=[],
        )
    return WebhookEvent(
        marketplace="ebay",
        account=account,
        event_id=event_id,
        kind=TOPIC_KINDS.get(topic, "other"),
        topic=topic,
        order=order,
        sku=data.get("sku"),
        quantity=int(quantity)
        if isinstance(quantity, int | str) and str(quantity).isascii() and str(quantity).isdigit()
        else None,
        payload=payload,
    )


def challenge_response(challenge_code: str, verification_token: str, endpoint: str) -> str:
    """Answer to eBay's GET <endpoint>?challenge_code=...: hex SHA-256 of code + token + endpoint, in that order.
    The endpoint must be byte-for-byte the URL registered with eBay."""
    h = hashlib.sha256()
    h.update(challenge_code.encode())
    h.update(verification_token.encode())
    h.update(endpoint.encode())
    return h.hexdigest()
