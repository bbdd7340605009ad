"""create_app(settings): the payments sandbox as one ASGI app (`merchflow sandboxes`, tests, benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse

from connectors.payments.sandbox_defaults import SANDBOX_WEBHOOK_SECRET
from merchflow.settings import Settings
from sandboxes.common.app import build_sandbox_app
from sandboxes.common.state import SandboxState, WebhookTarget, faults_from_settings
from sandboxes.payments.api import router as api_router
from sandboxes.payments.core import PaymentsConfig, PaymentsSandbox, StripeError
from sandboxes.payments.store import SCHEMA, charge_object

WEBHOOK_PATH = "/api/v1/arbitrage/webhooks/payments"


def render_error(status: int, message: str, retry_after: float | None) -> tuple[bytes, dict[str, str]]:
    kind = "invalid_request_error" if status == 429 else "api_error"
    body = {"error": {"type": kind, "message": message, **({"code": "rate_limit"} if status == 429 else {})}}
    return json.dumps(body).encode(), {}


def control_router(sbx: PaymentsSandbox) -> APIRouter:
    r = APIRouter(prefix="/_sandbox/payments", tags=["sandbox inspection"])
    db = sbx.state.store

    @r.get("/config")
    def get_config() -> PaymentsConfig:
        return sbx.config

    @r.put("/config")
    def put_config(config: PaymentsConfig) -> PaymentsConfig:
        sbx.config = config
        return sbx.config

    @r.get("/charges")
    def charges(
        payment_intent: str | None = None, limit: int = Query(1000, ge=1, le=100_000)
    ) -> list[dict[str, Any]]:
        """Every charge (an authorisation creates one; capture and refunds update it): "exactly one charge"."""
        sql, params = "SELECT * FROM pay_charge", []
        if payment_intent:
            sql, params = sql + " WHERE payment_intent = ?", [payment_intent]
        return [
            charge_object(row) for row in db.query(sql + " ORDER BY created, id LIMIT ?", [*params, limit])
        ]

    @r.get("/intents")
    def intents(deal: str | None = None) -> list[dict[str, Any]]:
        rows = db.query("SELECT id, status, amount, metadata FROM pay_intent ORDER BY created, id")
        out = [{**dict(row), "metadata": json.loads(row["metadata"])} for row in rows]
        return [x for x in out if deal is None or x["metadata"].get("deal_id") == deal]

    @r.post("/resend/{event_id}")
    def resend(event_id: str) -> dict[str, str]:
        row = db.one("SELECT * FROM pay_event WHERE id = ?", (event_id,))
        if row is None:
            raise StripeError(404, "invalid_request_error", f"No such event: '{event_id}'")
        sbx.deliver(sbx.event_object(row))
        return {"resent": event_id}

    return r


def create_app(settings: Settings, *, db_path: Path | str | None = None) -> FastAPI:
    sb = settings.sandbox
    hook_url = f"{sb.webhook_base_url or settings.base_url}{WEBHOOK_PATH}"
    holder: dict[str, PaymentsSandbox] = {}

    def routers(state: SandboxState, emitter):  # type: ignore[no-untyped-def]
        sbx = holder["sbx"] = PaymentsSandbox(state, emitter, PaymentsConfig())
        return [api_router(sbx), control_router(sbx)]

    def reset(state: SandboxState) -> None:
        state._buckets.clear()
        holder["sbx"].config = PaymentsConfig()

    app = build_sandbox_app(
        name="payments",
        title="Card payments sandbox (Stripe PaymentIntents wire format)",
        db_path=db_path or settings.data_dir / "sandboxes" / "payments.db",
        schema=SCHEMA,
        routers=routers,
        render_error=render_error,
        faults=faults_from_settings(sb),
        webhook=WebhookTarget(url=hook_url, secret=SANDBOX_WEBHOOK_SECRET),
        reset=reset,
    )

    @app.exception_handler(StripeError)
    async def _stripe_error(_: Any, exc: StripeError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    app.state.payments = holder["sbx"]
    return app
