"""GET /api/v1/blobs/<token>: the local blob store's signed, expiring URLs (connectors/blobs/signing.py).

Unauthenticated on purpose: marketplaces fetch listing images from these URLs, so the signed token is the only
credential. It names one key and carries its own expiry; a tampered token is 403, an expired one 410. With the S3
backend the URLs are S3's own presigned ones and never reach this route.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from api.deps import get_blobs
from api.errors import ApiError, error_responses
from api.routing import ApiRoute
from connectors.blobs.factory import url_signer
from connectors.blobs.local import LocalBlobStore
from connectors.blobs.signing import BlobUrlExpired, BlobUrlInvalid

router = APIRouter(tags=["blobs"], route_class=ApiRoute)


@router.get(
    "/api/v1/blobs/{token}",
    summary="A stored image or upload, by a signed expiring link",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **error_responses(403, 404, 410)},
)
def get_blob(request: Request, token: Annotated[str, Path(max_length=2048)]) -> Response:
    signer = url_signer(request.app.state.settings)
    try:
        key = signer.verify(token)
    except BlobUrlExpired:
        raise ApiError(410, "the link has expired") from None
    except (BlobUrlInvalid, ValueError):
        raise ApiError(403, "the link is not valid") from None
    store = get_blobs(request)
    if not isinstance(store, LocalBlobStore) or not store.exists(key):
        raise ApiError(404, "no such file")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    # the link's own lifetime bounds any cache; the token names one immutable key
    remaining = max(0, int(signer.expiry(token) - time.time()))
    return FileResponse(
        store.path(key),
        media_type=media_type,
        headers={
            "Cache-Control": f"private, max-age={min(remaining, 3600)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )
