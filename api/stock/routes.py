"""Stock: reconciles, a SKU's stock and ledger, manual adjustments and receipts; the signed marketplace webhooks
(api/stock/webhooks.py) and the orders list (api/stock/orders.py) are included in this router."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import select
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.stock.repository import apply_adjustment
from activities.stock.tables import DriftReportRow, ReconcileRun, StockLedgerEntry
from api.deps import AnyCaller, AppSettings, Operator, ReadSession, Temporal, get_engine
from api.errors import ApiError, error_responses
from api.inputs import AccountFilter, BeforeId, Offset, check_accounts
from api.routing import ApiRoute
from api.stock import orders, webhooks
from domain.bounds import MAX_ACCOUNT_FILTER, MAX_UNITS_PER_MOVEMENT, RowId
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, StockLevel
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workflows.stock.contract import (
    CHILDREN_QUERY,
    PROGRESS_QUERY,
    PUBLISH_WORKFLOW,
    RECONCILE_WORKFLOW,
    TASK_QUEUE,
    PublishInput,
    ReconcileInput,
    ReconcileProgress,
    manual_reconcile_id,
    publish_workflow_id,
)

router = APIRouter(tags=["stock"], route_class=ApiRoute)
router.include_router(webhooks.router)  # the marketplaces' signed webhooks (api/stock/webhooks.py)
router.include_router(orders.router)  # GET /api/v1/orders (api/stock/orders.py)
log = get_logger(__name__)


# ---------------------------------------------------------------- reconciles
class ReconcileRequest(BaseModel):
    account_ids: list[RowId] | None = Field(
        None, max_length=MAX_ACCOUNT_FILTER, description="Default: every enabled account"
    )
    batch_size: int = Field(2000, ge=100, le=5000)


@router.post("/api/v1/stock/reconciles", status_code=202, summary="Start a full reconciliation now")
async def start_reconcile(
    body: ReconcileRequest, request: Request, caller: Operator, settings: AppSettings, temporal: Temporal
) -> dict[str, str]:
    await check_accounts(request, body.account_ids)
    # the same accounts within a minute are one reconcile: a double click or a retried call starts nothing new
    wid = manual_reconcile_id(body.account_ids, utcnow(), deployment=settings.temporal.task_queue_prefix)
    try:
        await temporal.start_workflow(
            RECONCILE_WORKFLOW,
            ReconcileInput(account_ids=body.account_ids, batch_size=body.batch_size),
            id=wid,
            task_queue=settings.task_queue(TASK_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        pass  # it already ran to its end: the caller follows that run
    return {"id": wid, "status_url": f"/api/v1/stock/reconciles/{wid}"}


@router.get(
    "/api/v1/stock/reconciles/{reconcile_id}",
    summary="Status and per-account progress of a reconcile",
    responses=error_responses(404),
)
async def reconcile_status(
    reconcile_id: Annotated[str, Path(max_length=200)],
    caller: AnyCaller,
    temporal: Temporal,
    session: ReadSession,
) -> dict[str, Any]:
    runs = session.exec(
        select(ReconcileRun).where(ReconcileRun.id.startswith(reconcile_id + "-account-"))
    ).all()  # type: ignore[attr-defined]
    try:
        desc = await temporal.get_workflow_handle(reconcile_id).describe()
        status = desc.status.name.lower() if desc.status else "unknown"
        children = await temporal.get_workflow_handle(reconcile_id).query(
            CHILDREN_QUERY, result_type=list[str]
        )
    except RPCError as exc:
        if not runs:
            raise ApiError(404, f"no reconcile {reconcile_id!r}") from exc
        status, children = "unknown", []
    progress = []
    for child in children or [r.id for r in runs]:
        try:
            p = await temporal.get_workflow_handle(child).query(PROGRESS_QUERY, result_type=ReconcileProgress)
            if p is not None:
                progress.append(p.model_dump())
        except RPCError:
            continue
    return {
        "id": reconcile_id,
        "status": status,
        "accounts": [
            {
                "run_id": r.id,
                "account_id": r.account_id,
                "status": r.status,
                "checked": r.checked,
                "drifted": r.drifted,
                "corrected": r.corrected,
                "failed": r.failed,
                "unknown": r.unknown,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "error": r.error,
            }
            for r in runs
        ],
        "live": progress,
        "report_url": f"/api/v1/stock/reconciles/{reconcile_id}/report",
    }


@router.get(
    "/api/v1/stock/reconciles/{reconcile_id}/report",
    summary="Drift report: per SKU expected, found, action, outcome",
)
def reconcile_report(
    reconcile_id: Annotated[str, Path(max_length=200)],
    caller: AnyCaller,
    session: ReadSession,
    account_id: AccountFilter = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    q = select(DriftReportRow).where(DriftReportRow.run_id.startswith(reconcile_id + "-account-"))  # type: ignore[attr-defined]
    if account_id is not None:
        q = q.where(DriftReportRow.run_id == f"{reconcile_id}-account-{account_id}")
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(DriftReportRow.id).offset(offset).limit(limit)).all()  # type: ignore[arg-type]
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": [
            {
                "account_id": int(r.run_id.rsplit("-", 1)[-1]),
                "sku": r.sku,
                "expected": r.expected,
                "found": r.found,
                "action": r.action,
                "outcome": r.outcome,
                "message": r.message,
            }
            for r in rows
        ],
    }


# ---------------------------------------------------------------- a SKU's stock and ledger
@router.get(
    "/api/v1/stock/{sku}",
    summary="On hand, reserved, and each listing's published quantity",
    responses=error_responses(404),
)
def sku_stock(
    sku: Annotated[str, Path(max_length=64)], caller: AnyCaller, session: ReadSession
) -> dict[str, Any]:
    level = session.get(StockLevel, sku)
    if level is None:
        raise ApiError(404, f"no stock record for SKU {sku!r}")
    listings = session.exec(
        select(MarketplaceListing, MarketplaceAccount)
        .join(MarketplaceAccount, MarketplaceAccount.id == MarketplaceListing.account_id)  # type: ignore[arg-type]
        .where(MarketplaceListing.sku == sku)
    ).all()
    from domain.stock.rules import available_to_publish

    return {
        "sku": sku,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "version": level.version,
        "available": available_to_publish(level.on_hand, level.reserved),
        "listings": [
            {
                "account_id": a.id,
                "marketplace": a.marketplace,
                "account": a.name,
                "status": listing.status,
                "published_quantity": listing.quantity,
                "should_show": available_to_publish(level.on_hand, level.reserved, a.safety_buffer),
                "published_version": listing.published_version,
                "last_synced_at": listing.last_synced_at,
                "sync_error": listing.sync_error,
            }
            for listing, a in listings
        ],
    }


@router.get("/api/v1/stock/{sku}/ledger", summary="The SKU's inventory transactions, newest first")
def sku_ledger(
    sku: Annotated[str, Path(max_length=64)],
    caller: AnyCaller,
    session: ReadSession,
    before_id: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    q = select(StockLedgerEntry).where(StockLedgerEntry.sku == sku)
    if before_id is not None:
        q = q.where(StockLedgerEntry.id < before_id)  # type: ignore[operator]
    rows = session.exec(q.order_by(StockLedgerEntry.id.desc()).limit(limit)).all()  # type: ignore[union-attr]
    return {
        "sku": sku,
        "items": [r.model_dump() for r in rows],
        "next_before_id": rows[-1].id if len(rows) == limit else None,
    }


# ---------------------------------------------------------------- adjustments and receipts
class Adjustment(BaseModel):
    sku: str = Field(max_length=64)
    kind: Literal["receipt", "return", "cancellation", "adjustment", "transfer"]
    quantity: int = Field(
        ge=-MAX_UNITS_PER_MOVEMENT,
        le=MAX_UNITS_PER_MOVEMENT,
        description="Units; signed for adjustment / transfer, positive otherwise",
    )
    reason: str = Field(max_length=500)
    external_ref: str | None = Field(None, max_length=200)
    idempotency_key: str = Field(
        min_length=8, max_length=150, description="Repeat a request safely with the same key"
    )


@router.post(
    "/api/v1/stock/adjustments",
    status_code=201,
    summary="Record a receipt / return / adjustment and publish it",
    responses=error_responses(404),
)
async def post_adjustment(
    body: Adjustment, request: Request, caller: Operator, settings: AppSettings, temporal: Temporal
) -> dict[str, Any]:
    engine = get_engine(request)

    def apply() -> tuple[int, int, bool]:
        with session_scope(engine) as s:
            level, applied = apply_adjustment(
                s,
                sku=body.sku,
                kind=body.kind,
                quantity=body.quantity,
                reason=body.reason,
                idempotency_key=f"api:{body.idempotency_key}",
                external_ref=body.external_ref,
                actor=caller.username,
            )
            return level.on_hand, level.version, applied

    try:
        on_hand, version, applied = await asyncio.to_thread(apply)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    except LookupError as exc:
        raise ApiError(404, f"no stock record for SKU {body.sku!r}") from exc
    wid = publish_workflow_id(body.sku, version)
    try:
        await temporal.start_workflow(
            PUBLISH_WORKFLOW,
            PublishInput(skus=[body.sku], reason=f"{body.kind}: {body.reason}"),
            id=wid,
            task_queue=settings.task_queue(TASK_QUEUE),
        )
    except WorkflowAlreadyStartedError:
        pass
    return {
        "sku": body.sku,
        "on_hand": on_hand,
        "version": version,
        "applied": applied,
        "publish_workflow_id": wid,
    }
