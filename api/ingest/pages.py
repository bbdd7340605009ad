"""The images on the approver pages: `/ingest/images/<id>` sends a signed-in user on to a signed, expiring URL of
the image's metadata-free copy (the blob store's own: the API's /api/v1/blobs/ link, or S3's presigned one).

A page keeps stable links while the signatures stay short-lived: each view of the page signs afresh.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from activities.ingest import repository as repo
from api.deps import get_blobs
from api.web.session import CurrentUser, WebError, WebRoute
from connectors.blobs.port import BlobNotFound
from merchflow.db.engine import read_session

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_LINK_TTL = 300  # seconds: long enough to load a page, too short to pass around
_IMAGE_ID = re.compile(r"^[0-9a-f]{32}-\d{1,2}$")


@router.get("/ingest/images/{image_id}")
def image(request: Request, user: CurrentUser, image_id: str) -> Response:
    if not _IMAGE_ID.match(image_id):
        raise WebError(404, "Not found", "There is no such image.")
    with read_session(request.app.state.engine) as session:
        row = repo.image(session, image_id)
    if row is None or not row.stripped_key:
        raise WebError(404, "Not found", "There is no such image (or it was not usable).")
    try:
        url = get_blobs(request).signed_url(row.stripped_key, expires_in=PAGE_LINK_TTL)
    except BlobNotFound:
        raise WebError(404, "Not found", "The image is no longer stored.") from None
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
