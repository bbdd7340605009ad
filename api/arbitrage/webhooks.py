"""Webhooks of the arbitrage loop's sources and payments: signature checked on the raw body (Stripe's scheme, for
both), each event handled once (deduplicated by event id), then handed to the deal's workflow.

- classifieds `message.created` from a seller: the `seller_reply` signal of the deal for that listing;
- payments events: recorded once, with a line in the deal's timeline (a refund confirmed, a charge captured).
No bearer token: signed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from activities.arbitrage import repository as repo
from api.errors import ApiError, error_responses
from api.routing import ApiRoute
from api.stock.webhooks import read_capped
from connectors.arbitrage_sources.sandbox_defaults import CLASSIFIEDS_WEBHOOK_SECRET
from connectors.payments.sandbox_defaults import SANDBOX_WEBHOOK_SECRET
from connectors.payments.signature import SignatureError, verify
from merchflow.db.engine import session_scope
from merchflow.db.models import AuditLog
from merchflow.logging import get_logger
from workflows.arbitrage.contract import SELLER_REPLY_SIGNAL, SellerReplySignal, deal_workflow_id

router = APIRouter(tags=["arbitrage"], route_class=ApiRoute)
log = get_logger(__name__)
MAX_BYTES = 256 * 1024


def _secret(value: Any, default: str) -> str:
    return value.get_secret_value() if value is not None else default


def _verified(body: bytes, header: str | None, secret: str, provider: str) -> dict[str, Any]:
    try:
        verify(body, header, secret, now=time.time())
        event = json.loads(body)
    except (SignatureError, ValueError) as exc:
        log.warning("webhook refused", provider=provider, reason=str(exc)[:200])
        raise ApiError(401, f"webhook refused: {exc}") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise ApiError(422, "not an event: id and type are required")
    return event


def _first(
    request: Request, provider: str, event: dict[str, Any], note: dict[str, Any] | None = None
) -> bool:
    with session_scope(request.app.state.engine) as s:
        fresh = repo.first_receipt(s, provider=provider, event_id=event["id"], event_type=event["type"])
        if fresh and note:
            s.add(AuditLog(actor=provider, action=f"webhook_{event['type']}"[:60], entity_type="arbitrage_deal",
                           entity_id=note["deal_id"], details=note))  # fmt: skip
        return fresh


def _forget(request: Request, provider: str, event_id: str) -> None:
    import sqlalchemy as sa

    from activities.arbitrage.tables import WebhookReceipt

    with session_scope(request.app.state.engine) as s:
        s.execute(sa.delete(WebhookReceipt).where(WebhookReceipt.provider == provider,  # type: ignore[arg-type]
                                                  WebhookReceipt.event_id == event_id))  # type: ignore[arg-type]  # fmt: skip


@router.post("/api/v1/arbitrage/webhooks/classifieds", status_code=202, summary="Classifieds webhooks (signed)",
             responses={200: {"description": "a delivery seen before"}, **error_responses(401, 413, 503)})  # fmt: skip
async def classifieds(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    body = await read_capped(request, MAX_BYTES)
    secret = _secret(settings.arbitrage.classifieds_webhook_secret, CLASSIFIEDS_WEBHOOK_SECRET)
    event = _verified(body, request.headers.get("x-classifieds-signature"), secret, "classifieds")
    data = event.get("data") or {}
    message = data.get("message") or {}
    if event["type"] != "message.created" or message.get("sender") != "seller":
        fresh = await run_in_threadpool(_first, request, "classifieds", event)
        return JSONResponse(
            {"status": "recorded" if fresh else "duplicate"}, status_code=202 if fresh else 200
        )

    def deal_of() -> str | None:
        from merchflow.db.engine import read_session

        with read_session(request.app.state.engine) as s:
            d = repo.deal_for_offer(s, f"classifieds:{data.get('listing_id')}")
            return d.id if d else None

    deal_id = await run_in_threadpool(deal_of)
    if deal_id is None:
        return JSONResponse({"status": "ignored", "reason": "no deal for this listing"}, status_code=202)
    if not await run_in_threadpool(_first, request, "classifieds", event):
        return JSONResponse({"status": "duplicate"}, status_code=200)
    client = await request.app.state.temporal.get()
    if client is None:  # forget the event so the redelivery is handled
        await run_in_threadpool(_forget, request, "classifieds", event["id"])
        raise ApiError(503, "could not hand the reply to its deal; deliver again")
    reply = SellerReplySignal(message_id=str(message.get("id")), text=str(message.get("text") or "")[:10_000])
    try:
        await client.get_workflow_handle(deal_workflow_id(deal_id)).signal(SELLER_REPLY_SIGNAL, reply)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # the deal has ended: nothing to tell it
            return JSONResponse({"status": "ignored", "reason": "deal no longer running"}, status_code=202)
        await run_in_threadpool(_forget, request, "classifieds", event["id"])
        raise ApiError(503, "could not hand the reply to its deal; deliver again") from exc
    return JSONResponse({"status": "accepted", "deal_id": deal_id}, status_code=202)


@router.post("/api/v1/arbitrage/webhooks/payments", status_code=202, summary="Payment provider webhooks (signed)",
             responses={200: {"description": "a delivery seen before"}, **error_responses(401, 413)})  # fmt: skip
async def payments(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    body = await read_capped(request, MAX_BYTES)
    secret = _secret(settings.arbitrage.payments_webhook_secret, SANDBOX_WEBHOOK_SECRET)
    event = _verified(body, request.headers.get("stripe-signature"), secret, "payments")
    obj = (event.get("data") or {}).get("object") or {}
    meta = obj.get("metadata") or {}
    note = None
    if isinstance(meta, dict) and isinstance(meta.get("deal_id"), str):
        note = {"deal_id": meta["deal_id"][:40], "event": event["type"], "object": obj.get("id"),
                "status": obj.get("status"), "amount": obj.get("amount")}  # fmt: skip
    fresh = await run_in_threadpool(_first, request, "payments", event, note)
    return JSONResponse({"status": "recorded" if fresh else "duplicate"}, status_code=202 if fresh else 200)
