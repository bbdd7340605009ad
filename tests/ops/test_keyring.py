"""The AES-GCM keyring and the payload codec built on it: no fixtures, no server."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from merchflow.crypto.codec import ENCODING, KEY_ID, EncryptionCodec
from merchflow.crypto.keyring import KeyringError, decode_key, keyring_from_keys, new_key_text

OLD, NEW = new_key_text(), new_key_text()


def test_rotation_keeps_old_ciphertexts_readable_and_new_ones_use_the_primary() -> None:
    before = keyring_from_keys({"k1": OLD}, None, purpose="p")
    kid, blob = before.encrypt(b"price 12.50", aad=b"x")
    after = keyring_from_keys({"k1": OLD, "k2": NEW}, "k2", purpose="p")
    assert after.decrypt(kid, blob, aad=b"x") == b"price 12.50"
    kid2, blob2 = after.encrypt(b"price 13.00")
    assert kid == "k1" and kid2 == "k2"
    with pytest.raises(KeyringError, match="no key 'k2'"):
        before.decrypt(kid2, blob2)  # an engine that does not have the new key yet says so clearly


def test_tampering_wrong_context_and_other_purpose_are_refused() -> None:
    ring = keyring_from_keys({"k1": OLD}, None, purpose="temporal-payloads")
    kid, blob = ring.encrypt(b"secret", aad=b"a")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad in (lambda: ring.decrypt(kid, tampered, aad=b"a"), lambda: ring.decrypt(kid, blob, aad=b"b")):
        with pytest.raises(KeyringError, match="does not authenticate"):
            bad()
    other = keyring_from_keys({"k1": OLD}, None, purpose="marketplace-credentials")
    with pytest.raises(KeyringError):
        other.decrypt(kid, blob, aad=b"a")  # same master key, another purpose: another sub-key


def test_sealed_tokens_for_database_columns() -> None:
    ring = keyring_from_keys({"k1": OLD}, None, purpose="marketplace-credentials")
    token = ring.seal(b"refresh-token-value", context=b"account:7")
    assert token.startswith("mfk1.k1.") and "refresh" not in token
    assert ring.open(token, context=b"account:7") == b"refresh-token-value"
    with pytest.raises(KeyringError):
        ring.open(token, context=b"account:8")
    rotated = keyring_from_keys({"k1": OLD, "k2": NEW}, "k2", purpose="marketplace-credentials")
    assert rotated.needs_rotation(token) and not rotated.needs_rotation(rotated.seal(b"v"))


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(KeyringError, match="32 bytes"):
        decode_key("c2hvcnQ=")
    with pytest.raises(KeyringError, match="primary_key_id"):
        keyring_from_keys({"a": OLD, "b": NEW}, None, purpose="p")
    with pytest.raises(KeyringError, match="not among"):
        keyring_from_keys({"a": OLD}, "b", purpose="p")


async def test_codec_round_trip_and_clear_payloads_pass_through() -> None:
    codec = EncryptionCodec(keyring_from_keys({"k1": OLD}, None, purpose="temporal-payloads"))
    clear = Payload(metadata={"encoding": b"json/plain"}, data=b'{"sku": "DEMO-MUG-02", "cost": "4.10"}')
    [enc] = await codec.encode([clear])
    assert enc.metadata["encoding"] == ENCODING and enc.metadata[KEY_ID] == b"k1"
    assert b"DEMO-MUG-02" not in enc.SerializeToString()
    assert await codec.decode([enc]) == [clear]
    assert await codec.decode([clear]) == [clear]  # histories written before encryption was on
