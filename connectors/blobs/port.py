"""The blob store port, the one way uploads and images are stored. Keys are relative paths ("ingest/2026/12/ab12.jpg"); both adapters refuse keys that
could escape their root or bucket prefix. Sync methods: callers are thread-pool activities and API routes
that run them in a thread."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-=+@]*$")
MAX_KEY_LENGTH = 512


class BlobNotFound(KeyError):
    pass


def check_key(key: str) -> str:
    """A key of '/'-separated segments of safe characters; no '..', no leading '/' or '.', no empty segment."""
    if not key or len(key) > MAX_KEY_LENGTH or key.startswith("/") or key.endswith("/"):
        raise ValueError(f"bad blob key {key!r}")
    for seg in key.split("/"):
        if seg in (".", "..") or not _SEGMENT.match(seg):
            raise ValueError(f"bad blob key {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    if prefix == "":
        return prefix
    check_key(prefix.rstrip("/") or "x")
    return prefix


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...  # deleting a missing key is not an error
    def list(self, prefix: str = "") -> Iterator[str]: ...  # keys in lexical order
    def signed_url(self, key: str, *, expires_in: int) -> str: ...

    # Streaming: uploads are written to a local temp file chunk by chunk (never held in memory), then committed
    # under their key in one step; readers that seek (the catalog import reads by byte offsets) get a local file.
    def writer_tmp(self) -> Path: ...  # a fresh local path to write an upload into
    def commit(self, tmp: Path, key: str, *, content_type: str = "application/octet-stream") -> None:
        """Store the temp file under `key` atomically (a reader never sees half a blob); the temp file is gone."""
        ...

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the blob, for the `with` block (BlobNotFound when there is none)."""
        ...
