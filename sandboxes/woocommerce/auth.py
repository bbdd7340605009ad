"""Consumer key / secret checks as WooCommerce does them (WC_REST_Authentication).

Over HTTPS a store takes HTTP Basic or consumer_key / consumer_secret in the query string; on any scheme it takes
OAuth 1.0a one-legged signatures (HMAC-SHA1 / HMAC-SHA256 over the method, the site URL of the request path and the
sorted, doubly encoded query parameters, keyed with `consumer_secret&`), with a 15-minute timestamp window and
single-use nonces. The sandbox site is HTTPS for auth purposes unless its `https` knob is off (a plain-http store,
where only OAuth is accepted); that is what WooCommerce clients use when given an http:// URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request

from sandboxes.woocommerce.errors import WooError

# Same literals as connectors.marketplace.woocommerce.adapter.SANDBOX_CREDENTIALS (a test checks they agree).
CONSUMER_KEY = "ck_5a4db1e0c2f34f0e9d6b7a8c1e2f3a4b5c6d7e8f"
CONSUMER_SECRET = "cs_0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4"  # noqa: S105 - public sandbox credential
WEBHOOK_SECRET = "merchflow-sandbox-woocommerce-webhook-secret"  # noqa: S105 - public sandbox credential

# What an unauthenticated caller is told, per kind of request (WooCommerce's permission-check wording)
DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "read": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    "batch": (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
}


def credentials(request: Request, *, strip_authorization: bool) -> tuple[str, str] | None:
    header = None if strip_authorization else request.headers.get("authorization")
    if header and header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password
    q = request.query_params
    if "consumer_key" in q and "consumer_secret" in q:
        return q["consumer_key"], q["consumer_secret"]
    return None


OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
OAUTH_WINDOW_SECONDS = 15 * 60
HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


def _auth_error(message: str) -> WooError:
    return WooError(401, "woocommerce_rest_authentication_error", message)


def _rfc3986(value: str) -> str:
    """wc_rest_urlencode_rfc3986: PHP rawurlencode (only A-Z a-z 0-9 - _ . ~ stay as they are)."""
    return quote(value, safe="~")


def oauth_signature(method: str, url: str, params: dict[str, str], secret: str, algorithm: str) -> str:
    """The signature WooCommerce computes: every query parameter but oauth_signature, sorted by name, each
    `name=value` encoded (name and value encoded first), joined with %26; the consumer secret plus "&" as key."""
    pairs = [
        _rfc3986(f"{_rfc3986(k)}={_rfc3986(v)}") for k, v in sorted(params.items()) if k != "oauth_signature"
    ]
    base = f"{method.upper()}&{_rfc3986(url)}&{'%26'.join(pairs)}"
    digest = hmac.new(f"{secret}&".encode(), base.encode(), HASHES[algorithm]).digest()
    return base64.b64encode(digest).decode()


def oauth_user(request: Request, site_url: str, nonces: dict[str, float]) -> str | None:
    """The consumer key of a valid OAuth 1.0a request; None when the request carries no OAuth parameters."""
    params = dict(request.query_params)
    if not all(params.get(name) for name in OAUTH_PARAMS):
        return None
    if params["oauth_consumer_key"] != CONSUMER_KEY:
        raise _auth_error("Consumer key is invalid.")
    algorithm = params["oauth_signature_method"]
    if algorithm not in HASHES:
        raise _auth_error("Invalid signature - signature method is invalid.")
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        raise _auth_error("Invalid timestamp.") from None
    now = time.time()
    if abs(now - stamp) > OAUTH_WINDOW_SECONDS:
        raise _auth_error("Invalid timestamp.")
    # The site URL of the request path, never the Host header a client sent.
    url = site_url.rstrip("/") + request.url.path
    expected = oauth_signature(request.method, url, params, CONSUMER_SECRET, algorithm)
    given = params["oauth_signature"].replace(" ", "+")
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise _auth_error("Invalid signature - provided signature does not match.")
    for nonce, seen in list(nonces.items()):
        if seen < now - OAUTH_WINDOW_SECONDS:
            del nonces[nonce]
    if params["oauth_nonce"] in nonces:
        raise _auth_error("Invalid nonce - nonce has already been used.")
    nonces[params["oauth_nonce"]] = now
    return CONSUMER_KEY


# consumer key -> (consumer secret, permissions: read | write | read_write) of keys a store owner approved through
# /wc-auth/v1/authorize (sandboxes/woocommerce/consent.py); None for unknown or revoked keys
ApprovedKeys = Callable[[str], tuple[str, str] | None]
_READ_ONLY_ACTIONS = ("list", "read")


def authenticate(
    request: Request,
    action: str,
    *,
    strip_authorization: bool = False,
    https: bool = True,
    site_url: str = "",
    nonces: dict[str, float] | None = None,
    approved: ApprovedKeys | None = None,
) -> str:
    creds = credentials(request, strip_authorization=strip_authorization) if https else None
    if creds is None:
        user = oauth_user(request, site_url, {} if nonces is None else nonces)
        if user is not None:
            return user
        code, message = DENIED[action]
        raise WooError(401, code, message)
    key, secret = creds
    found = approved(key) if approved is not None and key != CONSUMER_KEY else None
    if found is not None:
        if not hmac.compare_digest(secret.encode(), found[0].encode()):
            raise _auth_error("Consumer secret is invalid.")
        permissions = found[1]
        if (action in _READ_ONLY_ACTIONS and permissions == "write") or (
            action not in _READ_ONLY_ACTIONS and permissions == "read"
        ):
            what = "read" if action in _READ_ONLY_ACTIONS else "write"
            raise _auth_error(f"The API key provided does not have {what} permissions.")
        return key
    if not hmac.compare_digest(key.encode(), CONSUMER_KEY.encode()):
        raise _auth_error("Consumer key is invalid.")
    if not hmac.compare_digest(secret.encode(), CONSUMER_SECRET.encode()):
        raise _auth_error("Consumer secret is invalid.")
    return key
