"""Consumer key / secret check as WooCommerce does it over HTTPS (the sandbox treats every request as HTTPS):
HTTP Basic, or consumer_key / consumer_secret in the query string."""

from __future__ import annotations

import base64
import binascii

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


def authenticate(request: Request, action: str, *, strip_authorization: bool = False) -> str:
    creds = credentials(request, strip_authorization=strip_authorization)
    if creds is None:
        code, message = DENIED[action]
        raise WooError(401, code, message)
    key, secret = creds
    if key != CONSUMER_KEY:
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    if secret != CONSUMER_SECRET:
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
    return key
