"""Webhook signatures in Stripe's scheme, used by the payments and the classifieds sandboxes and checked by the API:
header `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint secret>`. A signature older
than the tolerance is refused (a replayed capture of an old delivery), and several v1 entries are allowed
(secret rotation). Standard library only, so the API process imports nothing heavy to check one."""

from __future__ import annotations

import hashlib
import hmac


class SignatureError(ValueError):
    pass


DEFAULT_TOLERANCE = 300  # seconds, Stripe's default


def compute(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={compute(payload, secret, timestamp)}"


def verify(
    payload: bytes, sig_header: str | None, secret: str, *, now: float, tolerance: int = DEFAULT_TOLERANCE
) -> int:
    """The signed timestamp when the header is valid for `payload`; raises SignatureError otherwise."""
    if not sig_header or len(sig_header) > 2000:
        raise SignatureError("missing or oversized signature header")
    stamps, sigs = [], []
    for part in sig_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            sigs.append(value)
    if len(stamps) != 1 or not stamps[0].isdigit() or not sigs:
        raise SignatureError("malformed signature header")
    ts = int(stamps[0])
    expected = compute(payload, secret, ts)
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise SignatureError("signature does not match the payload")
    if abs(now - ts) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    return ts
