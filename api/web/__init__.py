"""Approver web pages (issue 5): server-rendered HTML on the API process.

`router` is included by api.routes; it carries /login, /logout, /approvals... and /admin/...
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.web import admin, approvals, auth, links
from api.web.render import HERE

_STATIC = {"app.css": "text/css", "app.js": "text/javascript"}

router = APIRouter(include_in_schema=False)


@router.get("/approvals/static/{name}")
def static(name: str) -> FileResponse:
    # a fixed list, so no path from the URL ever reaches the file system
    if name not in _STATIC:
        raise HTTPException(404, "not found")
    return FileResponse(
        HERE / "static" / name, media_type=_STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
    )


# links before approvals: /approvals/link/{token} must not be read as a decision id
for _sub in (auth.router, links.router, admin.router, approvals.router):
    router.include_router(_sub)
