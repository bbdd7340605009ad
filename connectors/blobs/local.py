"""The local directory adapter (the default): atomic writes through a temp file + rename, the streaming
`writer_tmp` / `commit` pair for uploads, nested keys, get / delete / list by prefix and signed URLs served by the
API (`/api/v1/blobs/<token>`).

Shared by API and workers on several machines only through a shared filesystem; use the S3 adapter otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.blobs.port import BlobNotFound, check_key, check_prefix
from connectors.blobs.signing import BlobUrlSigner

TMP_DIR = ".tmp"  # half-written uploads; never a key (keys cannot start with '.'), purged by housekeeping


class LocalBlobStore:
    def __init__(self, root: Path, *, signer: BlobUrlSigner | None = None) -> None:
        self.root = root
        self.signer = signer
        (root / TMP_DIR).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    # -- streaming uploads: write to a temp file, then commit it under its key
    def writer_tmp(self) -> Path:
        return self.root / TMP_DIR / uuid.uuid4().hex

    def commit(self, tmp: Path, key: str, *, content_type: str = "application/octet-stream") -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)  # atomic: a reader never sees half a file

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    # -- the port
    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        tmp = self.writer_tmp()
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.commit(tmp, key)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(key) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # tidy empty folders up to the root, so listing stays cheap
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir():
            return iter(())
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if d != TMP_DIR]
            rel_dir = Path(dirpath).relative_to(self.root)
            for name in filenames:
                key = (rel_dir / name).as_posix() if str(rel_dir) != "." else name
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def signed_url(self, key: str, *, expires_in: int) -> str:
        if self.signer is None:
            raise RuntimeError(
                "this store has no URL signer (give it one built from the settings' secret key)"
            )
        if not self.exists(key):
            raise BlobNotFound(key)
        return self.signer.url(key, expires_in=expires_in)
