"""Liveness and readiness. Unauthenticated: load balancers and `merchflow up` poll them."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.routing import ApiRoute

router = APIRouter(tags=["health"], route_class=ApiRoute)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


class Readiness(BaseModel):
    status: str  # ready | not_ready
    checks: dict[str, str]  # database, temporal: "ok" or "error: <kind>"


@router.get(
    "/readyz",
    summary="The database and Temporal are reachable",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: a check failed"}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:

        def ping() -> None:
            with request.app.state.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))

        await asyncio.to_thread(ping)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    client = await request.app.state.temporal.get()
    if client is None:
        checks["temporal"] = "error: not connected"
    else:
        try:
            await asyncio.wait_for(client.workflow_service.get_system_info(GetSystemInfoRequest()), 3)
            checks["temporal"] = "ok"
        except Exception as exc:
            checks["temporal"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )
