"""What the local eBay sandbox (sandboxes/ebay) accepts. Not secrets: these only open the local sandbox."""

from __future__ import annotations

import json

SANDBOX_KEY_ID = "merchflow-sandbox-ebay-1"
# Public half of the sandbox's notification signing key (the private half lives in sandboxes/ebay/signing.py).
SANDBOX_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4cBHtAqfvjhS47T2fZLKRsoXIVLP
x6KlyHwtPsZ8CSKLLQ0EY0b/1P727SpljqcOkB5q42Ey0WBFasxkAhL0Wg==
-----END PUBLIC KEY-----
"""

SANDBOX_CREDENTIALS: dict[str, str] = {
    "client_id": "merchflow-sandbox-ebay",
    "client_secret": "sandbox-client-secret",
    "refresh_token": "sandbox-refresh-token",
    # our own user name on the sandbox, so Browse results leave our listings out of competitive prices
    "seller_username": "merchflow_sandbox_seller",
    "verification_token": "merchflow-sandbox-ebay-verification-token-0123456789",
    # {kid: PEM} as JSON so it fits the credentials' str values (also settable per account as an option)
    "notification_public_keys": json.dumps({SANDBOX_KEY_ID: SANDBOX_PUBLIC_KEY}),
}
