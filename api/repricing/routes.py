"""Repricing: start a run (dry run or real) for all SKUs or a filter, follow it, page through its proposals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.repricing import repository
from api.deps import AnyCaller, AppSettings, Operator, ReadSession, Temporal
from api.errors import ApiError, error_responses
from api.inputs import AccountFilter, Offset, check_accounts
from api.routing import ApiRoute
from domain.bounds import MAX_ACCOUNT_FILTER, Flag, RowId
from merchflow.db.types import utcnow
from workflows.repricing.contract import (
    PROGRESS_QUERY,
    RUN_WORKFLOW,
    TASK_QUEUE,
    RepriceFilter,
    RepriceProgress,
    RepriceRunInput,
    RunPhase,
    manual_run_id,
)

router = APIRouter(tags=["repricing"], route_class=ApiRoute)


class RunRequest(BaseModel):
    dry_run: Flag = True  # the safe default: see the effect before anything reaches a marketplace
    skus: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=10_000
    )
    category: str | None = Field(default=None, max_length=200)
    account_ids: list[RowId] | None = Field(default=None, max_length=MAX_ACCOUNT_FILTER)
    batch_size: int | None = Field(default=None, ge=10, le=25_000)
    refresh_competitors: Flag = True


@router.post("/api/v1/repricing/runs", status_code=202, summary="Start a repricing run (dry run by default)")
async def start_run(
    body: RunRequest, request: Request, caller: Operator, settings: AppSettings, temporal: Temporal
) -> dict[str, Any]:
    await check_accounts(request, body.account_ids)
    inp = RepriceRunInput(
        dry_run=body.dry_run,
        filters=RepriceFilter(skus=body.skus, category=body.category, account_ids=body.account_ids),
        batch_size=body.batch_size,
        refresh_competitors=body.refresh_competitors,
        requested_by=caller.username,
    )
    # the same request within a minute is one run: a double click or a retried call starts nothing new
    run_id = manual_run_id(inp, utcnow(), deployment=settings.temporal.task_queue_prefix)
    try:
        await temporal.start_workflow(
            RUN_WORKFLOW,
            inp,
            id=run_id,
            task_queue=settings.task_queue(TASK_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        pass  # it already ran to its end: the caller follows that run
    return {
        "id": run_id,
        "dry_run": body.dry_run,
        "status_url": f"/api/v1/repricing/runs/{run_id}",
        "proposals_url": f"/api/v1/repricing/runs/{run_id}/proposals",
    }


def _money(v: Any) -> str | None:
    return None if v is None else str(v)


@router.get(
    "/api/v1/repricing/runs/{run_id}",
    summary="Status, live progress and the expected effect of a run",
    responses=error_responses(404),
)
async def run_status(
    run_id: Annotated[str, Path(max_length=200)], caller: AnyCaller, temporal: Temporal, session: ReadSession
) -> dict[str, Any]:
    run = repository.get_run(session, run_id)
    handle = temporal.get_workflow_handle(run_id)
    try:
        desc = await handle.describe()
        workflow_status = desc.status.name.lower() if desc.status else "unknown"
    except RPCError as exc:
        if run is None:
            raise ApiError(404, f"no repricing run {run_id!r}") from exc
        workflow_status = "unknown"
    live: list[dict[str, Any]] = []
    phase = None
    if workflow_status == "running":
        try:
            p: RunPhase = await handle.query(PROGRESS_QUERY, result_type=RunPhase)
            phase = p.phase
            for child in p.children:
                if "-account-" not in child:
                    continue
                try:
                    cp = await temporal.get_workflow_handle(child).query(
                        PROGRESS_QUERY, result_type=RepriceProgress
                    )
                    if cp is not None:
                        live.append(cp.model_dump(mode="json"))
                except RPCError:
                    continue
        except RPCError:
            pass
    by_status = repository.proposal_counts(session, run_id=run_id)
    out: dict[str, Any] = {
        "id": run_id,
        "status": run.status if run and run.status != "running" else workflow_status,
        "workflow_status": workflow_status,
        "phase": phase,
        "dry_run": run.dry_run if run else None,
        "filters": run.filters if run else None,
        "started_at": run.started_at if run else None,
        "finished_at": run.finished_at if run else None,
        "error": run.error if run else None,
        "progress": live,
        "proposals_by_status": by_status,
        "proposals_url": f"/api/v1/repricing/runs/{run_id}/proposals",
    }
    if run is not None and run.finished_at is not None:
        out["summary"] = {
            "evaluated": run.evaluated,
            "proposed": run.proposed,
            "auto_approved": run.auto_approved,
            "pending_approval": run.pending,
            "pushed": run.pushed,
            "push_failed": run.failed,
            # per day, at each listing's current sales run-rate, with the demand model's response where known
            "expected_margin_delta_per_day": _money(run.expected_margin_delta),
            "expected_revenue_delta_per_day": _money(run.expected_revenue_delta),
        }
    return out


@router.get(
    "/api/v1/repricing/runs/{run_id}/proposals",
    summary="A run's proposed price changes, paged",
    responses=error_responses(404),
)
def run_proposals(
    run_id: Annotated[str, Path(max_length=200)],
    caller: AnyCaller,
    session: ReadSession,
    status: Annotated[str | None, Query(max_length=20)] = None,
    account_id: AccountFilter = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    total, rows, decided = repository.proposal_page(
        session, run_id=run_id, status=status, account_id=account_id, offset=offset, limit=limit
    )
    if not total and repository.get_run(session, run_id) is None:
        raise ApiError(404, f"no repricing run {run_id!r}")
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": [
            {
                "account_id": r.account_id,
                "sku": r.sku,
                "current_price": _money(r.current_price),
                "suggested_price": _money(r.suggested_price),
                "change_pct": r.change_pct,
                "floor_price": _money(r.floor_price),
                "ceiling_price": _money(r.ceiling_price),
                "confidence": r.confidence,
                "unit_margin_now": _money(r.unit_margin_now),
                "unit_margin_new": _money(r.unit_margin_new),
                "expected_units_factor": r.expected_units_factor,
                "expected_revenue_factor": r.expected_revenue_factor,
                "reasoning": r.reasoning,
                "status": r.status,
                "decision_id": r.decision_id,
                "decision_status": decided.get(r.decision_id) if r.decision_id else None,
            }
            for r in rows
        ],
    }
