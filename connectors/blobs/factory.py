"""Build the blob store from settings (composition root: the worker's Deps, the API's app state, the CLI)."""

from __future__ import annotations

from connectors.blobs.local import LocalBlobStore
from connectors.blobs.port import BlobStore
from connectors.blobs.signing import BlobUrlSigner
from merchflow.settings import Settings


def url_signer(settings: Settings) -> BlobUrlSigner:
    return BlobUrlSigner(settings.secret_key.get_secret_value(), base_url=settings.base_url)


def build_blob_store(settings: Settings) -> BlobStore:
    b = settings.blobs
    if b.backend == "s3":
        from connectors.blobs.s3 import S3BlobStore

        return S3BlobStore.connect(
            bucket=b.s3_bucket,
            endpoint_url=b.s3_endpoint_url,
            region=b.s3_region,
            access_key_id=b.s3_access_key_id.get_secret_value() if b.s3_access_key_id else None,
            secret_access_key=b.s3_secret_access_key.get_secret_value() if b.s3_secret_access_key else None,
            prefix=b.s3_prefix,
            work_dir=settings.data_dir / "s3",
        )
    return LocalBlobStore(settings.blob_dir, signer=url_signer(settings))
