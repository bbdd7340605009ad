"""The Temporal payload codec: every payload leaving this process is AES-GCM encrypted with the keyring's primary
key, the key id in the payload's metadata; payloads without the encrypted encoding (histories written before
encryption was turned on) pass through, so turning encryption on never breaks running workflows."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from merchflow.crypto.keyring import Keyring, keyring_from_settings
from merchflow.ops_settings import CodecSettings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
PURPOSE = "temporal-payloads"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]

    def encode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already encrypted (a payload passed through untouched)
        key_id, blob = self.keyring.encrypt(payload.SerializeToString(), aad=ENCODING)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=blob)

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        plain = Payload()
        plain.ParseFromString(self.keyring.decrypt(key_id, payload.data, aad=ENCODING))
        return plain


def codec_from_settings(cfg: CodecSettings) -> EncryptionCodec | None:
    ring = keyring_from_settings(cfg, purpose=PURPOSE)
    return EncryptionCodec(ring) if ring is not None else None


def with_codec(converter: DataConverter, codec: PayloadCodec | None) -> DataConverter:
    """The converter with the codec; failure messages and stack traces are encrypted too (they can quote
    payload values), which the SDK does by moving them into an encoded attributes payload."""
    if codec is None:
        return converter
    return dataclasses.replace(
        converter, payload_codec=codec, failure_converter_class=DefaultFailureConverterWithEncodedAttributes
    )


def data_converter_for(cfg: CodecSettings) -> DataConverter:
    """The one converter of every client and worker: pydantic's, encrypted when a key is configured."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    return with_codec(pydantic_data_converter, codec_from_settings(cfg))
