"""The web shell shared by every feature's pages: login / logout, user administration, static assets, the
layout and session handling. Features add their pages through their own routers (e.g. api.decisions.web)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.web import admin, auth
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


for _sub in (auth.router, admin.router):
    router.include_router(_sub)
