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

from activities.stock.tables import WebhookEvent
from api.deps import AppSettings, get_temporal
from api.errors import ApiError, error_responses
from api.inputs import declared_length
from api.marketplaces import registry
from api.routing import ApiRoute
from connectors.errors import WebhookRejected
from connectors.marketplace.accounts import MarketplaceRegistry
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount
from merchflow.logging import get_logger
from workflows.stock.contract import (
    ORDER_SYNC_WORKFLOW,
    TASK_QUEUE,
    OrderLinePayload,
    OrderSyncInput,
    order_workflow_id,
)

router = APIRouter(tags=["stock"], route_class=ApiRoute)
log = get_logger(__name__)
# Marketplace notifications are a few kilobytes; a megabyte leaves room for large orders and none for abuse.
MAX_WEBHOOK_BYTES = 1024 * 1024


def _registry(request: Request) -> MarketplaceRegistry:
    return registry(request)  # shared by the API's routes, with the account-health listener


async def start_order_workflow(client: Client, settings: Any, order: OrderSyncInput) -> str:
    wid = order_workflow_id(order.account_id, order.order_id)
    try:
        await client.start_workflow(
            ORDER_SYNC_WORKFLOW,
            order,
            id=wid,
            task_queue=settings.task_queue(TASK_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        pass  # the poller (or an earlier delivery) got there first: one workflow per order
    return wid


@router.post(
    "/api/v1/webhooks/{marketplace}/{account}",
    status_code=202,
    summary="Marketplace webhook receiver (signature-verified, deduplicated)",
    description=f"Bodies above {MAX_WEBHOOK_BYTES} bytes are refused (413) while they stream in, before the account "
    "is looked up; the signature is checked on the raw bytes before anything parses them.",
    responses={
        200: {"description": "A delivery seen before: nothing new to do"},
        **error_responses(401, 404, 413, 503),
    },
)
async def receive_webhook(
    request: Request,
    marketplace: Annotated[Literal["amazon", "ebay", "shopify", "woocommerce"], Path()],
    account: Annotated[str, Path(max_length=100)],
    settings: AppSettings,
) -> JSONResponse:
    received = time.time()
    body = await read_capped(request, MAX_WEBHOOK_BYTES)
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
    event = _verified(adapter, {k.lower(): v for k, v in request.headers.items()}, body, marketplace, account)

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
        temporal = await get_temporal(request)
        wid = await start_order_workflow(temporal, settings, order)
    except (RPCError, ApiError) as exc:
        # Forget the event so the marketplace's redelivery is processed, not answered "duplicate".
        await asyncio.to_thread(forget, engine, row.id or 0, event.event_id[:200])
        log.warning("order workflow not started", marketplace=marketplace, error=str(exc))
        raise ApiError(503, "could not start processing; deliver again") from exc
    return JSONResponse(
        {"status": "accepted", "event_id": event.event_id, "workflow_id": wid}, status_code=202
    )


def _verified(adapter: Any, headers: dict[str, str], body: bytes, marketplace: str, account: str) -> Any:
    """The adapter's verdict on the signature. Headers and body are the sender's: whatever goes wrong while reading
    them is a refusal (401), never a 500 with a traceback an unauthenticated caller could trigger at will."""
    try:
        return adapter.verify_webhook(headers, body)
    except WebhookRejected as exc:
        reason = exc.message
    except Exception as exc:
        reason = f"unreadable signature or body ({type(exc).__name__})"
    log.warning("webhook refused", marketplace=marketplace, account=account, reason=reason)
    raise ApiError(401, f"webhook refused: {reason}")


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, read as it streams in and refused (413) as soon as it passes `limit` bytes."""
    too_large = ApiError(
        413, f"the body is larger than the limit of {limit} bytes", details={"limit_bytes": limit}
    )
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def forget(engine: sa.Engine, account_id: int, event_id: str) -> None:
    with session_scope(engine) as s:
        s.execute(
            sa.delete(WebhookEvent).where(
                WebhookEvent.account_id == account_id,  # type: ignore[arg-type]
                WebhookEvent.event_id == event_id,  # type: ignore[arg-type]
            )
        )
