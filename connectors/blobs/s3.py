"""The S3-compatible adapter (AWS S3, MinIO, Cloudflare R2, Ceph, ...) on boto3. Signed URLs are S3's own
presigned GETs (SigV4, `X-Amz-Expires`), so marketplaces fetch images straight from the bucket.

Streaming uploads land in a local temp file and are committed with boto3's managed (multipart) upload, so a
200 MB catalog never sits in memory. Readers that need a seekable file (the catalog import reads by byte offsets,
batch after batch) get a local copy kept in a cache keyed by the object's ETag: an overwritten key is fetched
again, an unchanged one is downloaded once per worker, and the cache is pruned oldest-first past its size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from connectors.blobs.port import BlobNotFound, check_key, check_prefix

_MISSING = ("404", "NoSuchKey", "NotFound")
DEFAULT_CACHE_BYTES = 2 * 1024**3


class S3BlobStore:
    def __init__(
        self,
        *,
        bucket: str,
        client: Any,
        prefix: str = "",
        work_dir: Path | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.bucket = bucket
        self.client = client
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        base = work_dir or Path(tempfile.gettempdir()) / "merchflow-s3"
        self.tmp_dir, self.cache_dir = base / "tmp", base / "cache"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_bytes = cache_bytes

    @classmethod
    def connect(
        cls,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        work_dir: Path | None = None,
    ) -> S3BlobStore:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}),
        )
        return cls(bucket=bucket, client=client, prefix=prefix, work_dir=work_dir)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(key) from exc
            raise
        return bytes(response["Body"].read())

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[no-any-return]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        full = self.prefix + check_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix) :]

    def signed_url(self, key: str, *, expires_in: int) -> str:
        if not self.exists(key):
            raise BlobNotFound(key)
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=int(expires_in)
            )
        )

    # -- streaming
    def writer_tmp(self) -> Path:
        return self.tmp_dir / uuid.uuid4().hex

    def commit(self, tmp: Path, key: str, *, content_type: str = "application/octet-stream") -> None:
        # S3 makes an object visible only once its (multipart) upload completes: readers never see half of it
        try:
            self.client.upload_file(
                str(tmp), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
            )
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        tag = hashlib.sha256(f"{self._key(key)}|{head.get('ETag', '')}".encode()).hexdigest()
        path = self.cache_dir / tag
        if not path.is_file():
            tmp = self.writer_tmp()
            try:
                self.client.download_file(self.bucket, self._key(key), str(tmp))
                os.replace(tmp, path)  # two workers downloading the same object both end with a whole file
            finally:
                tmp.unlink(missing_ok=True)
            self._prune(keep=path)
        os.utime(path)  # recently used: pruned last
        yield path

    def _prune(self, *, keep: Path) -> None:
        files = []
        for p in self.cache_dir.iterdir():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in files)
        for _, size, p in sorted(files):
            if total <= self.cache_bytes:
                break
            if p != keep:
                # a reader holding the file open keeps its data (POSIX): only the name goes
                p.unlink(missing_ok=True)
                total -= size
