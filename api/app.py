"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import blobs, health, web
from api.errors import install_error_handlers
from api.middleware import RequestGuard
from api.routing import ApiRoute, install_error_schema
from merchflow.db.engine import make_engine
from merchflow.features import resolve
from merchflow.logging import get_logger
from merchflow.settings import Settings, get_settings

log = get_logger(__name__)


class LazyTemporal:
    """Connects on first use and retries later if Temporal is down, so the API starts (and /readyz answers
    503) even while Temporal is still starting or briefly unreachable."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client | None:
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                from merchflow.temporal import connect

                try:
                    self.client = await asyncio.wait_for(connect(self.settings), 5)
                except Exception as exc:
                    log.warning("temporal not reachable", error=str(exc))
        return self.client


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="merchflow",
        version="0.1.0",
        description="Trigger and inspect merchflow's durable seller processes. "
        "Authenticate with `Authorization: Bearer <token>` (create one with `merchflow token create`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.sqlalchemy_url)
    app.state.temporal = LazyTemporal(settings, temporal_client)
    install_error_handlers(app)
    app.add_middleware(RequestGuard, body_timeout=settings.api_body_read_timeout_seconds)
    app.router.route_class = ApiRoute  # routes added on the app itself authenticate first too
    app.include_router(health.router)
    app.include_router(web.router)  # login, user admin, static assets shared by every feature's pages
    app.include_router(blobs.router)  # the blob store's signed links (listing images for marketplaces)
    from workers.registry import FEATURES

    for feature in FEATURES:
        for ref in feature.routers:
            app.include_router(resolve(ref))
    install_error_schema(app)
    _install_telemetry(app)
    return app


def _install_telemetry(app: FastAPI) -> None:
    """the decisions-pending collector behind /metrics, and tracing when OTEL_* turns it on."""
    from api.ops.metrics import register_collectors
    from merchflow.telemetry.tracing import instrument_app, setup_tracing

    register_collectors(app.state.engine)
    setup_tracing("merchflow-api")
    instrument_app(app)
