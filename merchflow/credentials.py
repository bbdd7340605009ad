"""Marketplace credentials obtained at run time (OAuth refresh tokens, offline access tokens, pasted keys), sealed
with AES-GCM for the `marketplace_account.credentials_sealed` column.

Each account's secrets are one sealed JSON object bound to the account id (the AEAD context): a sealed value copied
onto another account does not open. Nothing here logs a value; callers show `hints()` (set / last 4) only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from merchflow.crypto.keyring import Keyring, KeyringError, keyring_from_settings
from merchflow.settings import Settings

PURPOSE = "marketplace-credentials"
# Without configured keys, the key is derived from MERCHFLOW_SECRET_KEY (zero configuration for `make up`); it stays
# in the keyring once keys are configured, so secrets sealed before still open until `merchflow accounts reseal`.
DERIVED_KEY_ID = "secret-key"
_HINT_MIN_LENGTH = 12  # shorter values would give away too much of themselves in their last 4


class CredentialsUnreadable(KeyringError):
    """The sealed credentials of an account cannot be opened (key removed too early, or tampered with)."""


def _derived_key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"merchflow", info=b"credential-key").derive(
        secret
    )


def credential_keyring(settings: Settings) -> Keyring:
    configured = keyring_from_settings(settings.credential_keys, purpose=PURPOSE)
    derived = {DERIVED_KEY_ID: _derived_key(settings)}
    if configured is None:
        return Keyring(keys=derived, primary=DERIVED_KEY_ID, purpose=PURPOSE)
    return Keyring(keys={**derived, **configured.keys}, primary=configured.primary, purpose=PURPOSE)


def _context(account_id: int) -> bytes:
    return f"marketplace_account:{account_id}".encode()


def seal(ring: Keyring, account_id: int, secrets: Mapping[str, str]) -> str:
    body = json.dumps(dict(sorted(secrets.items())), separators=(",", ":")).encode()
    return ring.seal(body, context=_context(account_id))


def unseal(ring: Keyring, account_id: int, token: str) -> dict[str, str]:
    try:
        data = json.loads(ring.open(token, context=_context(account_id)))
    except KeyringError as exc:
        raise CredentialsUnreadable(
            f"the stored credentials of account {account_id} cannot be opened: {exc}"
        ) from None
    return {str(k): str(v) for k, v in data.items()}


def hints(secrets: Mapping[str, str]) -> dict[str, str]:
    """What the API and pages may show of each secret: that it is set, and for long values their last 4."""
    out = {}
    for k, v in sorted(secrets.items()):
        if not v:
            continue
        tail = "".join(c for c in v if c.isalnum())[
            -4:
        ]  # a JSON or PEM value ends in punctuation, not in its key
        out[k] = "set" if len(v) < _HINT_MIN_LENGTH or len(tail) < 4 else f"set, ends in {tail}"
    return out
