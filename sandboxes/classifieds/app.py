"""create_app(settings): the classifieds sandbox as one ASGI app (`merchflow sandboxes`, tests, benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from connectors.arbitrage_sources.sandbox_defaults import CLASSIFIEDS_WEBHOOK_SECRET
from merchflow.settings import Settings
from sandboxes.classifieds.api import router as api_router
from sandboxes.classifieds.control import control_router, pages_router
from sandboxes.classifieds.core import ClassifiedsConfig, ClassifiedsError, ClassifiedsSandbox
from sandboxes.classifieds.store import SCHEMA
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.state import SandboxState, WebhookTarget, faults_from_settings

WEBHOOK_PATH = "/api/v1/arbitrage/webhooks/classifieds"


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    code = {429: "rate_limited", 503: "unavailable", 504: "timeout"}.get(status, "server_error")
    return json.dumps({"error": {"code": code, "message": message}}).encode(), {}


def create_app(
    settings: Settings, *, db_path: Path | str | None = None, base_url: str | None = None
) -> FastAPI:
    sb = settings.sandbox
    hook_url = f"{sb.webhook_base_url or settings.base_url}{WEBHOOK_PATH}"
    holder: dict[str, ClassifiedsSandbox] = {}

    def routers(state: SandboxState, emitter):  # type: ignore[no-untyped-def]
        sbx = holder["sbx"] = ClassifiedsSandbox(
            state, emitter, ClassifiedsConfig(), base_url or sb.base_url("classifieds")
        )
        return [api_router(sbx), control_router(sbx), pages_router(sbx)]

    def reset(state: SandboxState) -> None:
        state._buckets.clear()
        holder["sbx"].config = ClassifiedsConfig()

    app = build_sandbox_app(
        name="classifieds",
        title="Classifieds marketplace sandbox (local marketplaces stand-in)",
        db_path=db_path or settings.data_dir / "sandboxes" / "classifieds.db",
        schema=SCHEMA,
        routers=routers,
        render_error=render_error,
        faults=faults_from_settings(sb),
        webhook=WebhookTarget(url=hook_url, secret=CLASSIFIEDS_WEBHOOK_SECRET),
        reset=reset,
    )

    @app.exception_handler(ClassifiedsError)
    async def _error(_: Any, exc: ClassifiedsError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    app.state.classifieds = holder["sbx"]
    return app
