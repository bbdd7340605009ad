"""Marketplace webhooks in: HMAC-verified by the account's adapter, deduplicated by event id, each order handed to
its order-sync workflow (one per order: the poller derives the same workflow id). No bearer token: signed."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.stock_payloads import OrderLinePayload, OrderSyncInput
from api.deps import AppSettings, Temporal
from api.errors import ApiError
from connectors.errors import WebhookRejected
from connectors.marketplace.accounts import MarketplaceRegistry
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount
from merchflow.db.stock import WebhookEvent
from merchflow.logging import get_logger
from workers.registry import MAIN_QUEUE
from workflows.stock import OrderSyncWorkflow, order_workflow_id

router = APIRouter(tags=["stock"])
log = get_logger(__name__)


def _registry(request: Request) -> MarketplaceRegistry:
    reg = getattr(request.app.state, "marketplaces", None)
    if reg is None:
        reg = MarketplaceRegistry(request.app.state.engine, request.app.state.settings)
        request.app.state.marketplaces = reg
    return reg


async def start_order_workflow(client: Client, settings: Any, order: OrderSyncInput) -> str:
    wid = order_workflow_id(order.account_id, order.order_id)
    try:
        await client.start_workflow(
            OrderSyncWorkflow.run,
            order,
            id=wid,
            task_queue=settings.task_queue(MAIN_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        pass  # the poller (or an earlier delivery) got there first: one workflow per order
    return wid


@router.post(
    "/api/v1/webhooks/{marketplace}/{account}",
    status_code=202,
    summary="Marketplace webhook receiver (signature-verified, deduplicated)",
)
async def receive_webhook(
    request: Request,
    marketplace: Annotated[Literal["amazon", "ebay", "shopify", "woocommerce"], Path()],
    account: Annotated[str, Path(max_length=100)],
    settings: AppSettings,
    temporal: Temporal,
) -> JSONResponse:
    received = time.time()
    body = await request.body()
    engine = request.app.state.engine

    def find() -> MarketplaceAccount | None:
        with Session(engine) as s:
            return s.exec(
                select(MarketplaceAccount).where(
                    MarketplaceAccount.marketplace == marketplace, MarketplaceAccount.name == account
                )
            ).first()

    row = await asyncio.to_thread(find)
    if row is None or not row.enabled:
        raise ApiError(404, f"no enabled {marketplace} account named {account!r}")
    adapter = _registry(request).get(row.id or 0)
    try:
        event = adapter.verify_webhook({k.lower(): v for k, v in request.headers.items()}, body)
    except WebhookRejected as exc:
        log.warning("webhook refused", marketplace=marketplace, account=account, reason=exc.message)
        raise ApiError(401, f"webhook refused: {exc.message}") from exc

    def dedupe() -> bool:
        try:
            with session_scope(engine) as s:
                s.add(
                    WebhookEvent(
                        account_id=row.id or 0,
                        marketplace=marketplace,
                        event_id=event.event_id[:200],
                        topic=event.topic[:100],
                    )
                )
            return True
        except sa.exc.IntegrityError:
            return False

    fresh = await asyncio.to_thread(dedupe)
    if not fresh:
        return JSONResponse({"status": "duplicate", "event_id": event.event_id}, status_code=200)
    if event.order is None or event.order.cancelled or event.kind not in ("order_created", "order_updated"):
        return JSONResponse(
            {"status": "ignored", "event_id": event.event_id, "kind": event.kind}, status_code=202
        )
    # An order without lines (eBay notifies ids only) is read by the workflow itself.
    order = OrderSyncInput(
        account_id=row.id or 0,
        marketplace=marketplace,
        order_id=event.order.order_id,
        source="webhook",
        lines=[OrderLinePayload(sku=line.sku, quantity=line.quantity) for line in event.order.lines],
        received_at=received,
    )
    try:
        wid = await start_order_workflow(temporal, settings, order)
    except RPCError as exc:
        # Forget the event so the marketplace's redelivery is processed, not answered "duplicate".
        await asyncio.to_thread(forget, engine, row.id or 0, event.event_id[:200])
        log.warning("order workflow not started", marketplace=marketplace, error=str(exc))
        raise ApiError(503, "could not start processing; deliver again") from exc
    return JSONResponse(
        {"status": "accepted", "event_id": event.event_id, "workflow_id": wid}, status_code=202
    )


def forget(engine: sa.Engine, account_id: int, event_id: str) -> None:
    with session_scope(engine) as s:
        s.execute(
            sa.delete(WebhookEvent).where(
                WebhookEvent.account_id == account_id,  # type: ignore[arg-type]
                WebhookEvent.event_id == event_id,  # type: ignore[arg-type]
            )
        )
