"""Repricing: start a run (dry run or real) for all SKUs or a filter, follow it, page through its proposals."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.repricing_payloads import (
    PROGRESS_QUERY,
    RepriceFilter,
    RepriceProgress,
    RepriceRunInput,
    RunPhase,
)
from api.deps import AnyCaller, AppSettings, Operator, ReadSession, Temporal
from api.errors import ApiError
from merchflow.db.models import Decision
from merchflow.db.pricing import RepriceProposal, RepriceRun
from workers.registry import MAIN_QUEUE
from workflows.repricing import RepriceRunWorkflow

router = APIRouter(tags=["repricing"])


class RunRequest(BaseModel):
    dry_run: bool = True  # the safe default: see the effect before anything reaches a marketplace
    skus: list[str] | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=200)
    account_ids: list[int] | None = None
    batch_size: int | None = Field(default=None, ge=10, le=25_000)
    refresh_competitors: bool = True


@router.post("/api/v1/repricing/runs", status_code=202, summary="Start a repricing run (dry run by default)")
async def start_run(
    body: RunRequest, caller: Operator, settings: AppSettings, temporal: Temporal
) -> dict[str, Any]:
    run_id = f"reprice-{'dry' if body.dry_run else 'run'}-{uuid.uuid4().hex[:12]}"
    await temporal.start_workflow(
        RepriceRunWorkflow.run,
        RepriceRunInput(
            dry_run=body.dry_run,
            filters=RepriceFilter(skus=body.skus, category=body.category, account_ids=body.account_ids),
            batch_size=body.batch_size,
            refresh_competitors=body.refresh_competitors,
            requested_by=caller.username,
        ),
        id=run_id,
        task_queue=settings.task_queue(MAIN_QUEUE),
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    return {
        "id": run_id,
        "dry_run": body.dry_run,
        "status_url": f"/api/v1/repricing/runs/{run_id}",
        "proposals_url": f"/api/v1/repricing/runs/{run_id}/proposals",
    }


def _money(v: Any) -> str | None:
    return None if v is None else str(v)


@router.get(
    "/api/v1/repricing/runs/{run_id}", summary="Status, live progress and the expected effect of a run"
)
async def run_status(
    run_id: Annotated[str, Path(max_length=200)], caller: AnyCaller, temporal: Temporal, session: ReadSession
) -> dict[str, Any]:
    run = session.get(RepriceRun, run_id)
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
    by_status: dict[str, int] = dict(
        session.execute(
            sa.select(RepriceProposal.status, sa.func.count())  # type: ignore[call-overload]
            .where(RepriceProposal.run_id == run_id)
            .group_by(RepriceProposal.status)
        ).all()
    )
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


@router.get("/api/v1/repricing/runs/{run_id}/proposals", summary="A run's proposed price changes, paged")
def run_proposals(
    run_id: Annotated[str, Path(max_length=200)],
    caller: AnyCaller,
    session: ReadSession,
    status: str | None = None,
    account_id: int | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    q = select(RepriceProposal).where(RepriceProposal.run_id == run_id)
    if status:
        q = q.where(RepriceProposal.status == status)
    if account_id is not None:
        q = q.where(RepriceProposal.account_id == account_id)
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    if not total and session.get(RepriceRun, run_id) is None:
        raise ApiError(404, f"no repricing run {run_id!r}")
    rows = session.exec(q.order_by(col(RepriceProposal.id)).offset(offset).limit(limit)).all()
    ids = [r.decision_id for r in rows if r.decision_id]
    decided = (
        dict(session.exec(select(Decision.id, Decision.status).where(col(Decision.id).in_(ids))).all())
        if ids
        else {}
    )
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
