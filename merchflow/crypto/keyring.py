"""An AES-GCM keyring: several keys by id, one primary for new data, the others kept to decrypt old data.

Every ciphertext names the key it was made with, so rotating is: add a key, make it primary, keep the old one
until nothing encrypted with it remains. Each use (Temporal payloads, stored credentials, ...) derives its own
sub-key per purpose with HKDF, so one set of operator-managed keys never encrypts two kinds of data with the
same AES key, and a ciphertext of one purpose cannot be passed off as another's.

Reuse for another feature (e.g. stored marketplace credentials):

    ring = keyring_from_settings(settings.codec, purpose="marketplace-credentials")
    token = ring.seal(secret.encode(), context=b"account:42")     # a text token for a database column
    secret = ring.open(token, context=b"account:42").decode()
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr


class KeyringSettings(Protocol):
    """What `keyring_from_settings` reads: any settings group with keys by id and the primary key id (the payload
    codec's `CodecSettings`, the stored credentials' `CredentialKeySettings`)."""

    @property
    def keys(self) -> Mapping[str, SecretStr]: ...

    @property
    def primary_key_id(self) -> str | None: ...


NONCE_BYTES = 12
_TOKEN_PREFIX = "mfk1"  # noqa: S105 - a format tag, not a secret


class KeyringError(ValueError):
    """A key is missing, malformed, or a ciphertext does not authenticate."""


def decode_key(text: str) -> bytes:
    """A key as configured: urlsafe (or standard) base64 of 32 bytes, padding optional."""
    raw = text.strip()
    try:
        key = base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyringError("a codec key must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise KeyringError(f"a codec key must be 32 bytes (AES-256), got {len(key)}")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]  # key id -> 32-byte master key
    primary: str
    purpose: str
    _ciphers: dict[str, AESGCM] = field(
        default_factory=dict, repr=False, compare=False
    )  # derived once per key

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise KeyringError(f"primary key id {self.primary!r} is not among the keys {sorted(self.keys)}")
        for kid in self.keys:
            if not kid or "." in kid or len(kid) > 64:
                raise KeyringError(f"bad key id {kid!r}: 1-64 characters, no dots")

    def _aead(self, key_id: str) -> AESGCM:
        cached = self._ciphers.get(key_id)
        if cached is not None:
            return cached
        master = self.keys.get(key_id)
        if master is None:
            raise KeyringError(
                f"no key {key_id!r} in the keyring (known: {sorted(self.keys)}); was an old key removed too early?"
            )
        sub = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self.purpose.encode()).derive(master)
        self._ciphers[key_id] = AESGCM(sub)
        return self._ciphers[key_id]

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> tuple[str, bytes]:
        """(key id, nonce + ciphertext + tag) with the primary key."""
        nonce = os.urandom(NONCE_BYTES)
        return self.primary, nonce + self._aead(self.primary).encrypt(nonce, plaintext, aad)

    def decrypt(self, key_id: str, blob: bytes, *, aad: bytes = b"") -> bytes:
        if len(blob) < NONCE_BYTES + 16:
            raise KeyringError("ciphertext too short")
        try:
            return self._aead(key_id).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise KeyringError(f"ciphertext does not authenticate with key {key_id!r}") from exc

    # ---- self-describing text tokens, for database columns
    def seal(self, plaintext: bytes, *, context: bytes = b"") -> str:
        key_id, blob = self.encrypt(plaintext, aad=context)
        return f"{_TOKEN_PREFIX}.{key_id}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"

    def open(self, token: str, *, context: bytes = b"") -> bytes:
        try:
            prefix, key_id, body = token.split(".", 2)
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error) as exc:
            raise KeyringError("not a sealed token") from exc
        if prefix != _TOKEN_PREFIX:
            raise KeyringError(f"unknown token format {prefix!r}")
        return self.decrypt(key_id, blob, aad=context)

    def needs_rotation(self, token: str) -> bool:
        """True for a token sealed with another key than the primary (re-seal it to finish a rotation)."""
        return token.split(".", 2)[1:2] != [self.primary]


def keyring_from_keys(keys: Mapping[str, SecretStr | str], primary: str | None, *, purpose: str) -> Keyring:
    decoded = {
        kid.lower(): decode_key(v.get_secret_value() if isinstance(v, SecretStr) else v)
        for kid, v in keys.items()
    }
    if not decoded:
        raise KeyringError("no keys configured")
    if primary is None:
        if len(decoded) > 1:
            raise KeyringError("several codec keys configured: set primary_key_id to the one for new data")
        primary = next(iter(decoded))
    return Keyring(keys=decoded, primary=primary.lower(), purpose=purpose)


def keyring_from_settings(cfg: KeyringSettings, *, purpose: str) -> Keyring | None:
    """None when no key is configured (encryption off)."""
    if not cfg.keys:
        return None
    return keyring_from_keys(cfg.keys, cfg.primary_key_id, purpose=purpose)
