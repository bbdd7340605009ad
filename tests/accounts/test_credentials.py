"""Sealed credentials: the default key derived from the secret key, configured keys and their rotation, the binding
of a sealed value to its account, and what may be shown of a secret."""

from __future__ import annotations

import pytest

from merchflow.credentials import CredentialsUnreadable, credential_keyring, hints, seal, unseal
from merchflow.crypto.keyring import new_key_text
from merchflow.settings import Settings

K1, K2 = new_key_text(), new_key_text()


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, environment="test", **kw)  # type: ignore[call-arg]


def test_default_key_then_configured_keys_then_rotation() -> None:
    plain = settings()
    token = seal(credential_keyring(plain), 7, {"refresh_token": "Atzr|very-secret-value"})
    assert "very-secret" not in token and token.startswith("mfk1.secret-key.")
    # keys configured later: what the derived key sealed still opens; new values use the primary
    with_keys = settings(credential_keys={"keys": {"k1": K1}})
    ring = credential_keyring(with_keys)
    assert unseal(ring, 7, token) == {"refresh_token": "Atzr|very-secret-value"}
    k1_token = seal(ring, 7, {"a": "b"})
    assert k1_token.startswith("mfk1.k1.") and ring.needs_rotation(token)
    rotated = credential_keyring(
        settings(credential_keys={"keys": {"k1": K1, "k2": K2}, "primary_key_id": "k2"})
    )
    assert unseal(rotated, 7, k1_token) == {"a": "b"} and rotated.needs_rotation(k1_token)
    assert seal(rotated, 7, {"a": "b"}).startswith("mfk1.k2.")
    # a value sealed for one account does not open on another, nor without its key
    with pytest.raises(CredentialsUnreadable):
        unseal(rotated, 8, k1_token)
    with pytest.raises(CredentialsUnreadable, match="no key 'k1'"):
        unseal(credential_keyring(settings(credential_keys={"keys": {"k2": K2}})), 7, k1_token)
    # another secret key, another derived key
    with pytest.raises(CredentialsUnreadable):
        unseal(credential_keyring(settings(secret_key="another-development-secret-key-xxxxxxxx")), 7, token)


def test_only_set_and_last_four_are_shown() -> None:
    assert hints({"consumer_secret": "cs_0123456789abcdef", "pin": "12345", "empty": ""}) == {
        "consumer_secret": "set, ends in cdef",
        "pin": "set",
    }


def test_hints_of_structured_values_end_in_letters_or_digits() -> None:
    assert hints({"notification_public_keys": '{"k": "-----END PUBLIC KEY-----\\n"}'}) == {
        "notification_public_keys": "set, ends in KEYn"
    }
