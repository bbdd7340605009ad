"""Photos of a received item: sniffed (JPEG, PNG, WebP, HEIC only, never by name), size-limited while read, stored
in the blob store under `arbitrage/<deal>/`. The worker's ingest step strips their metadata before they are used
anywhere; here they are only kept."""

from __future__ import annotations

import hashlib

from fastapi import Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.errors import ApiError
from connectors.blobs.factory import build_blob_store
from domain.ingest.image_rules import sniff

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PHOTOS = 12


async def store_photos(request: Request, deal_id: str, photos: list[UploadFile]) -> list[str]:
    if len(photos) > MAX_PHOTOS:
        raise ApiError(422, f"photos: at most {MAX_PHOTOS}")
    if not deal_id.isalnum():
        raise ApiError(404, f"no deal {deal_id!r}")
    blobs = getattr(request.app.state, "arbitrage_blobs", None)
    if blobs is None:
        blobs = request.app.state.arbitrage_blobs = build_blob_store(request.app.state.settings)
    keys = []
    for n, photo in enumerate(photos):
        data = await photo.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(413, f"photo {n + 1} is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
        kind = sniff(data[:64])
        if kind.kind is None:
            raise ApiError(422, f"photo {n + 1}: {kind.reason}")
        key = f"arbitrage/{deal_id}/{hashlib.sha256(data).hexdigest()[:16]}.{kind.kind}"
        await run_in_threadpool(blobs.put, key, data, content_type=f"image/{kind.kind}")
        keys.append(key)
    return keys
