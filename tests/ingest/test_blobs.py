"""The blob store port: one contract run against the local directory adapter and the S3 adapter (against
an S3-compatible server started here, moto's), plus the local adapter's signed URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from connectors.blobs.factory import build_blob_store
from connectors.blobs.local import LocalBlobStore
from connectors.blobs.port import BlobNotFound, BlobStore
from connectors.blobs.s3 import S3BlobStore
from connectors.blobs.signing import BlobUrlExpired, BlobUrlInvalid, BlobUrlSigner
from merchflow.settings import Settings
from tests.support.servers import free_port

BUCKET = "merchflow-test"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(
            tmp_path / "blobs", signer=BlobUrlSigner("k" * 32, base_url="http://127.0.0.1:8000")
        )
    endpoint = request.getfixturevalue("s3_endpoint")
    s3 = S3BlobStore.connect(
        bucket=BUCKET,
        endpoint_url=endpoint,
        access_key_id="test",
        secret_access_key="test",
        prefix=tmp_path.name,
    )
    try:
        s3.client.create_bucket(Bucket=BUCKET)
    except s3.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return s3


def test_put_get_exists_delete(store: BlobStore) -> None:
    assert not store.exists("ingest/a.jpg")
    store.put("ingest/a.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")
    assert store.exists("ingest/a.jpg") and store.get("ingest/a.jpg") == b"\xff\xd8jpeg"
    store.put("ingest/a.jpg", b"v2")  # overwrite
    assert store.get("ingest/a.jpg") == b"v2"
    store.delete("ingest/a.jpg")
    store.delete("ingest/a.jpg")  # idempotent
    assert not store.exists("ingest/a.jpg")
    with pytest.raises(BlobNotFound):
        store.get("ingest/a.jpg")


def test_list_by_prefix(store: BlobStore) -> None:
    for key in ("ingest/b/2.jpg", "ingest/a/1.jpg", "ingest/a/0.jpg", "imports/x.csv", "ingest-old.txt"):
        store.put(key, key.encode())
    assert list(store.list("ingest/a/")) == ["ingest/a/0.jpg", "ingest/a/1.jpg"]
    assert list(store.list("ingest/")) == ["ingest/a/0.jpg", "ingest/a/1.jpg", "ingest/b/2.jpg"]
    assert list(store.list("ingest")) == [
        "ingest-old.txt",
        "ingest/a/0.jpg",
        "ingest/a/1.jpg",
        "ingest/b/2.jpg",
    ]
    assert sorted(store.list()) == sorted(
        ["ingest/b/2.jpg", "ingest/a/1.jpg", "ingest/a/0.jpg", "imports/x.csv", "ingest-old.txt"]
    )
    assert list(store.list("nothing/")) == []


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", ".hidden", "a/", "a\\b", "a b"]
)
def test_bad_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_signed_url_fetches_the_bytes(store: BlobStore) -> None:
    store.put("img/main.jpg", b"pixels", content_type="image/jpeg")
    url = store.signed_url("img/main.jpg", expires_in=600)
    with pytest.raises(BlobNotFound):
        store.signed_url("img/missing.jpg", expires_in=600)
    if isinstance(store, S3BlobStore):
        query = parse_qs(urlparse(url).query)
        assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        response = httpx.get(url)
        assert response.status_code == 200 and response.content == b"pixels"
        assert response.headers["content-type"] == "image/jpeg"
    else:
        assert url.startswith("http://127.0.0.1:8000/api/v1/blobs/")
        token = url.rsplit("/", 1)[1]
        assert store.signer is not None and store.signer.verify(token) == "img/main.jpg"  # type: ignore[attr-defined]


def test_local_signed_urls_expire_and_resist_tampering() -> None:
    clock = Clock()
    signer = BlobUrlSigner("secret-key-of-enough-length", base_url="https://shop.example", clock=clock)
    token = signer.token("ingest/p1/main.jpg", expires_in=60)
    assert signer.verify(token) == "ingest/p1/main.jpg"
    clock.now += 59
    assert signer.verify(token) == "ingest/p1/main.jpg"
    clock.now += 1
    with pytest.raises(BlobUrlExpired):
        signer.verify(token)
    with pytest.raises(BlobUrlInvalid):
        signer.verify(token[:-2] + ("A" if token[-1] != "A" else "B") + token[-1])
    other = BlobUrlSigner("another-secret-key-entirely", base_url="https://shop.example", clock=clock)
    with pytest.raises(BlobUrlInvalid):
        other.verify(signer.token("a.jpg", expires_in=60))
    with pytest.raises(ValueError):
        signer.token("../etc/passwd", expires_in=60)


def test_local_streaming_commit_is_atomic(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    tmp = store.writer_tmp()
    tmp.write_bytes(b"partial")
    assert not store.exists("uploads/u1.csv") and list(store.list()) == []  # temp files are not blobs
    store.commit(tmp, "uploads/u1.csv")
    assert store.get("uploads/u1.csv") == b"partial" and not tmp.exists()


def test_local_concurrent_writers_never_expose_half_a_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    seen: list[bytes] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            if store.exists("k.bin"):
                seen.append(store.get("k.bin"))

    reader = threading.Thread(target=read)
    reader.start()
    for p in payloads:
        store.put("k.bin", p)
    stop.set()
    reader.join(10)
    assert all(s in payloads for s in seen)


def test_factory_picks_the_backend(tmp_path: Path, s3_endpoint: str) -> None:
    local = build_blob_store(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "blobs"
    s3 = build_blob_store(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path,
            blobs={
                "backend": "s3",
                "s3_endpoint_url": s3_endpoint,
                "s3_bucket": BUCKET,
                "s3_access_key_id": "test",
                "s3_secret_access_key": "test",
            },  # type: ignore[arg-type]
        )
    )
    assert isinstance(s3, S3BlobStore) and s3.bucket == BUCKET
