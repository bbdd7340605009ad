"""How the sandbox signs its notifications, like eBay's Notification API: X-EBAY-SIGNATURE is base64 of
{"alg": "ecdsa", "kid", "signature": base64(DER ECDSA-SHA1 over the body), "digest": "SHA1"}.

The key below exists only to sign local sandbox notifications; its public half is preconfigured in the adapter's
sandbox credentials. It protects nothing.
"""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_KEY_ID

SANDBOX_PRIVATE_KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+YBP3+noe+w2s80s
cokCr4leGcFaAwn6JxfQZrEMZRqhRANCAAThwEe0Cp++OFLjtPZ9kspGyhchUs/H
oqXIfC0+xnwJIostDQRjRv/U/vbtKmWOpw6QHmrjYTLRYEVqzGQCEvRa
-----END PRIVATE KEY-----
"""

_KEY = load_pem_private_key(SANDBOX_PRIVATE_KEY, password=None)


def signature_header(
    body: bytes, *, key: ec.EllipticCurvePrivateKey | None = None, kid: str = SANDBOX_KEY_ID
) -> str:
    signer = key or _KEY
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    der = signer.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - SHA1 is what eBay's notifications use
    envelope = {"alg": "ecdsa", "kid": kid, "signature": base64.b64encode(der).decode(), "digest": "SHA1"}
    return base64.b64encode(json.dumps(envelope).encode()).decode()


def sign(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Signer for sandboxes.common.webhooks.WebhookEmitter."""
    return {"x-ebay-signature": signature_header(body)}
