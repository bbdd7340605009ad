"""The payload codec key of the encrypted histories committed under histories/ (recorded with
MERCHFLOW_CODEC__KEYS__REPLAY=<this>). A test key, for demo data only: never use it for anything real."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from merchflow.crypto.codec import PURPOSE, EncryptionCodec, with_codec
from merchflow.crypto.keyring import keyring_from_keys

REPLAY_KEY_ID = "replay"
REPLAY_KEY = "bWVyY2hmbG93LXJlcGxheS10ZXN0LWtleS0zMmJ5dGU="


def replay_converter() -> DataConverter:
    """pydantic's converter with the codec: decrypts the encrypted histories, passes the clear ones through."""
    ring = keyring_from_keys({REPLAY_KEY_ID: REPLAY_KEY}, None, purpose=PURPOSE)
    return with_codec(pydantic_data_converter, EncryptionCodec(ring))
