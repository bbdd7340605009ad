"""`/metrics` of the API process, for Prometheus: merchflow's business series and, read from the database at
scrape time, the decisions waiting for a person. Open by default (bind the API to a private interface or set
MERCHFLOW_METRICS__API_REQUIRES_TOKEN=true when the API is reachable from outside)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from activities.ops.collectors import DecisionsPendingCollector
from api.errors import ApiError
from merchflow.db.engine import read_session
from merchflow.tokens import lookup_token

router = APIRouter(tags=["operations"])

# one collector per process, pointed at the newest app's engine (tests create many apps in one process)
_collector: DecisionsPendingCollector | None = None


def register_collectors(app_engine: object) -> None:
    global _collector
    if _collector is None:
        _collector = DecisionsPendingCollector(app_engine)  # type: ignore[arg-type]
        REGISTRY.register(_collector)
    else:
        _collector.engine = app_engine  # type: ignore[assignment]


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.metrics.enabled:
        raise ApiError(404, "metrics are off (MERCHFLOW_METRICS__ENABLED=false)")
    if settings.metrics.api_requires_token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with read_session(request.app.state.engine) as session:
            user = lookup_token(session, token.strip()) if scheme.lower() == "bearer" and token else None
        if user is None:
            raise ApiError(401, "metrics need an API token (Authorization: Bearer <token>)")
    body = await asyncio.to_thread(generate_latest, REGISTRY)  # the collector reads the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
