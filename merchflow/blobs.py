"""Blob store port for uploaded files: a filesystem adapter by default.

Workers on other machines need a shared filesystem (or an object-store adapter with the same methods):
uploads are never passed through Temporal payloads (2 MB limit).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    def path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def writer_tmp(self) -> Path: ...
    def commit(self, tmp: Path, key: str) -> None: ...


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if "/" in key or key.startswith("."):
            raise ValueError(f"bad blob key {key!r}")
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def writer_tmp(self) -> Path:
        return self.root / "tmp" / uuid.uuid4().hex

    def commit(self, tmp: Path, key: str) -> None:
        # rename is atomic: a reader never sees half a file
        os.replace(tmp, self.path(key))
