"""Build a sandbox ASGI app: the marketplace routes plus the /_sandbox inspection API and the shared middleware."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request

from sandboxes.common.grants import grants_router
from sandboxes.common.middleware import ErrorRenderer, IsMutating, SandboxMiddleware
from sandboxes.common.state import FaultConfig, SandboxState, WebhookTarget
from sandboxes.common.store import SandboxStore
from sandboxes.common.webhooks import WebhookEmitter


def inspection_router(
    state: SandboxState, emitter: WebhookEmitter, reset: Callable[[], None] | None
) -> APIRouter:
    r = APIRouter(prefix="/_sandbox", tags=["sandbox inspection"])

    @r.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "sandbox": state.name}

    @r.get("/faults")
    def get_faults() -> FaultConfig:
        return state.faults

    @r.put("/faults")
    def put_faults(faults: FaultConfig) -> FaultConfig:
        state.set_faults(faults)
        return state.faults

    @r.get("/webhooks")
    def get_webhooks() -> dict[str, Any]:
        return {"url": state.webhook.url, "delivered": emitter.delivered, "failed": emitter.failed}

    @r.put("/webhooks")
    def put_webhooks(target: WebhookTarget) -> dict[str, Any]:
        state.webhook = target
        return {"url": target.url}

    @r.get("/requests")
    def requests(
        since_id: int = 0,
        limit: int = Query(1000, ge=1, le=100000),
        path: str | None = None,
        method: str | None = None,
        mutating: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Every API request (reads too), oldest first; `mutating=true` keeps the writes only."""
        sql = "SELECT * FROM sbx_request WHERE id > ?"
        params: list[Any] = [since_id]
        if path:
            sql += " AND path LIKE ?"
            params.append(path + "%")
        if method:
            sql += " AND method = ?"
            params.append(method.upper())
        if mutating is not None:
            sql += " AND mutating = ?"
            params.append(int(mutating))
        rows = state.store.query(sql + " ORDER BY id LIMIT ?", [*params, limit])
        return [dict(row) for row in rows]

    @r.get("/effects")
    def effects(
        since_id: int = 0, limit: int = Query(10000, le=1000000), entity: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sbx_effect WHERE id > ?"
        params: list[Any] = [since_id]
        if entity:
            sql += " AND entity = ?"
            params.append(entity)
        return [dict(row) for row in state.store.query(sql + " ORDER BY id LIMIT ?", [*params, limit])]

    @r.get("/effects/duplicates")
    def duplicate_effects() -> list[dict[str, Any]]:
        """The same change (entity, field, new value) applied more than once under one idempotency key: empty
        while every retry of a keyed write is deduplicated, or re-reads the truth before it is resent."""
        rows = state.store.query(
            "SELECT idempotency_key, entity, field, new_value, COUNT(*) AS n FROM sbx_effect "
            "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key, entity, field, new_value HAVING n > 1"
        )
        return [dict(row) for row in rows]

    @r.get("/stats")
    def stats() -> dict[str, Any]:
        req = state.store.one("SELECT COUNT(*) AS n FROM sbx_request")
        eff = state.store.one("SELECT COUNT(*) AS n FROM sbx_effect")
        return {"requests": req["n"] if req else 0, "effects": eff["n"] if eff else 0}

    @r.post("/reset")
    def do_reset() -> dict[str, str]:
        with state.store.tx() as c:
            c.execute("DELETE FROM sbx_request")
            c.execute("DELETE FROM sbx_effect")
            c.execute("DELETE FROM sbx_idempotency")
        if reset is not None:
            reset()
        state.set_faults(FaultConfig(rate_limits=state.faults.rate_limits))
        return {"status": "reset"}

    return r


def build_sandbox_app(
    *,
    name: str,
    title: str,
    db_path: Path | str,
    schema: str,
    routers: Callable[[SandboxState, WebhookEmitter], Sequence[APIRouter]],
    render_error: ErrorRenderer,
    is_mutating: IsMutating | None = None,
    key_from_body: Callable[[bytes], str | None] | None = None,
    faults: FaultConfig | None = None,
    webhook: WebhookTarget | None = None,
    reset: Callable[[SandboxState], None] | None = None,
) -> FastAPI:
    store = SandboxStore(db_path, schema)
    state = SandboxState(
        name=name, store=store, faults=faults or FaultConfig(), webhook=webhook or WebhookTarget()
    )
    state.set_faults(state.faults)
    emitter = WebhookEmitter()
    app = FastAPI(title=title, docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    app.state.sandbox = state
    app.state.emitter = emitter
    for router in routers(state, emitter):
        app.include_router(router)
    app.include_router(inspection_router(state, emitter, (lambda: reset(state)) if reset else None))
    app.include_router(
        grants_router(state)
    )  # consents given on the sandbox's consent pages, and their revocation

    @app.on_event("shutdown")
    async def _close() -> None:
        await emitter.aclose()
        store.close()

    app.add_middleware(
        SandboxMiddleware,
        state=state,
        render_error=render_error,
        is_mutating=is_mutating,
        key_from_body=key_from_body,
    )
    return app


def sandbox_state(request: Request) -> SandboxState:
    return request.app.state.sandbox  # type: ignore[no-any-return]
