"""Decisions for tools and scripts: list / inspect, approve / reject / edit, propose, bulk, policies, calibration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.decisions import bulk, repository
from activities.decisions.errors import DecisionError
from activities.decisions.service import decide, decide_many
from api.deps import (
    Admin,
    AnyCaller,
    Approver,
    AppSettings,
    DbSession,
    Operator,
    ReadSession,
    Temporal,
    get_engine,
)
from api.errors import ApiError, error_responses
from api.inputs import Offset
from api.routing import ApiRoute
from domain.bounds import MAX_AGE_HOURS, MAX_TIMEOUT_HOURS, MAX_VERSION, Flag, Number
from domain.decisions.rules import Proposal, unknown_type
from merchflow.db.types import utcnow
from workers.registry import decision_types
from workflows.decisions.contract import (
    DECISION_WORKFLOW,
    TASK_QUEUE,
    BulkCreateResult,
    BulkDecideItem,
    BulkDecideOutcome,
    BulkItem,
    DecideResult,
    DecisionInput,
    decision_workflow_id,
)

router = APIRouter(tags=["decisions"], route_class=ApiRoute)
DecisionId = Annotated[str, Path(min_length=1, max_length=64)]
Engine = Annotated[sa.Engine, Depends(get_engine)]
_STATUS = {"not_found": 404, "conflict": 409, "forbidden": 403, "invalid": 422}
_DECIDE = error_responses(400, 404, 409)  # DecisionError codes (api errors without a mapping are 400)


def _api_error(exc: DecisionError) -> ApiError:
    return ApiError(_STATUS.get(exc.code, 400), exc.message, code=exc.code)


def _check_types(located: list[tuple[str, str]]) -> None:
    """422 unless every (location, decision type) is one some feature acts on; names the known types."""
    known = decision_types()
    refused = [(loc, msg) for loc, t in located if (msg := unknown_type(t, known)) is not None]
    if refused:
        details = [{"location": loc, "message": msg} for loc, msg in refused[:20]]
        if len(refused) > 20:
            details.append({"location": "body", "message": f"... and {len(refused) - 20} more"})
        raise ApiError(422, refused[0][1], code="validation_error", details=details)


class DecisionPage(BaseModel):
    items: list[repository.DecisionView]
    total: int
    counts: dict[str, dict[str, int]]  # {status: {decision_type: n}}


class DecisionDetail(BaseModel):
    decision: repository.DecisionView
    history: list[repository.HistoryEntry]


class DecideBody(BaseModel):
    expected_version: int = Field(
        ge=1, le=MAX_VERSION, description="the version you looked at; refused with 409 if it moved"
    )
    comment: str | None = Field(default=None, max_length=2000)


class EditBody(DecideBody):
    value: dict[str, Any] = Field(description='the edited proposed value, e.g. {"price": "18.50"}')


class ProposeBody(BaseModel):
    decision_id: str | None = Field(default=None, max_length=64, description="business key; random if absent")
    proposal: Proposal
    notify: Flag = True


class Proposed(BaseModel):
    decision_id: str
    workflow_id: str
    run_id: str | None


class BulkCreateBody(BaseModel):
    items: list[BulkItem] = Field(max_length=5000)


class BulkDecideBody(BaseModel):
    action: Literal["approve", "reject"]
    items: list[BulkDecideItem] = Field(min_length=1, max_length=100_000)
    comment: str | None = Field(default=None, max_length=2000)


class PolicyBody(BaseModel):
    decision_type: str = Field(min_length=1, max_length=40)
    mode: Literal["manual", "semi-auto", "full-auto"]
    threshold: Number = Field(default=0.85, ge=0, le=1)
    guardrails: dict[str, Any] = Field(
        default_factory=dict,
        description="max_price_change_pct (0..10000), max_purchase_amount, block_below_cost",
    )
    timeout_hours: Number | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT_HOURS,
        description="how long one approver group has before the decision escalates or expires",
    )
    on_timeout: Literal["expire", "escalate"] | None = None
    escalation_groups: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, min_length=1, max_length=10
    )


@router.get("/api/v1/decisions", response_model=DecisionPage, summary="Decisions, filtered, oldest first")
def list_decisions(
    _: AnyCaller,
    session: ReadSession,
    status: Annotated[
        str | None, Query(max_length=20, description="pending (default), executed, ... or 'all'")
    ] = "pending",
    decision_type: Annotated[str | None, Query(max_length=40)] = None,
    marketplace: Annotated[str | None, Query(max_length=32)] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)] = None,
    older_than_hours: Annotated[
        float | None, Query(ge=0, le=MAX_AGE_HOURS, allow_inf_nan=False, description="at most ten years")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> DecisionPage:
    items, total = repository.list_decisions(
        session,
        status=None if status == "all" else status,
        decision_type=decision_type,
        marketplace=marketplace,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        older_than_hours=older_than_hours,
        limit=limit,
        offset=offset,
    )
    return DecisionPage(items=items, total=total, counts=repository.decision_counts(session))


@router.get(
    "/api/v1/decisions/calibration",
    response_model=list[repository.CalibrationBucket],
    summary="How often humans approved, per decision type and 0.1-wide confidence bucket",
)
def calibration(
    _: AnyCaller, session: ReadSession, decision_type: Annotated[str | None, Query(max_length=40)] = None
) -> Any:
    return repository.calibration(session, decision_type=decision_type)


@router.get(
    "/api/v1/decisions/{decision_id}",
    response_model=DecisionDetail,
    summary="One decision and its history",
    responses=error_responses(404),
)
def get_decision(decision_id: DecisionId, _: AnyCaller, session: ReadSession) -> DecisionDetail:
    view = repository.get_decision(session, decision_id)
    if view is None:
        raise ApiError(404, f"decision {decision_id} does not exist")
    return DecisionDetail(decision=view, history=repository.decision_history(session, decision_id))


async def _decide(
    temporal: Any,
    engine: sa.Engine,
    caller: Any,
    decision_id: str,
    action: str,
    body: DecideBody,
    value: Any = None,
) -> DecideResult:
    try:
        return await decide(
            temporal,
            decision_id=decision_id,
            action=action,
            actor=caller.username,
            role=caller.role,
            expected_version=body.expected_version,
            edited_value=value,
            comment=body.comment,
            engine=engine,
        )
    except DecisionError as exc:
        raise _api_error(exc) from None


@router.post(
    "/api/v1/decisions/{decision_id}/approve",
    response_model=DecideResult,
    summary="Approve",
    responses=_DECIDE,
)
async def approve(
    decision_id: DecisionId, body: DecideBody, caller: Approver, temporal: Temporal, engine: Engine
) -> DecideResult:
    return await _decide(temporal, engine, caller, decision_id, "approve", body)


@router.post(
    "/api/v1/decisions/{decision_id}/reject", response_model=DecideResult, summary="Reject", responses=_DECIDE
)
async def reject(
    decision_id: DecisionId, body: DecideBody, caller: Approver, temporal: Temporal, engine: Engine
) -> DecideResult:
    return await _decide(temporal, engine, caller, decision_id, "reject", body)


@router.post(
    "/api/v1/decisions/{decision_id}/edit",
    response_model=DecideResult,
    summary="Edit the value, approve",
    responses=_DECIDE,
)
async def edit(
    decision_id: DecisionId, body: EditBody, caller: Approver, temporal: Temporal, engine: Engine
) -> DecideResult:
    return await _decide(temporal, engine, caller, decision_id, "edit_approve", body, body.value)


@router.post(
    "/api/v1/decisions",
    status_code=202,
    response_model=Proposed,
    summary="Propose: start a decision workflow",
    description="Idempotent by `decision_id`: proposing a running decision again returns it; a closed one is 409.",
    responses=error_responses(409),
)
async def propose(body: ProposeBody, caller: Operator, temporal: Temporal, settings: AppSettings) -> Proposed:
    _check_types([("body.proposal.decision_type", body.proposal.decision_type)])
    decision_id = body.decision_id or uuid.uuid4().hex
    proposal = body.proposal
    if proposal.requested_by is None:
        proposal = proposal.model_copy(update={"requested_by": caller.username})
    try:
        handle = await temporal.start_workflow(
            DECISION_WORKFLOW,
            DecisionInput(decision_id=decision_id, proposal=proposal, notify=body.notify),
            id=decision_workflow_id(decision_id),
            task_queue=settings.task_queue(TASK_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        raise ApiError(409, f"decision {decision_id} already exists and is closed") from None
    return Proposed(decision_id=decision_id, workflow_id=handle.id, run_id=handle.result_run_id)


@router.post(
    "/api/v1/decisions/bulk",
    response_model=BulkCreateResult,
    summary="Create many decisions as rows (no workflow each); idempotent by decision id",
)
def create_bulk(body: BulkCreateBody, caller: Operator, session: DbSession) -> BulkCreateResult:
    _check_types(
        [
            (f"body.items.{i}.proposal.decision_type", it.proposal.decision_type)
            for i, it in enumerate(body.items)
        ]
    )
    return bulk.create_with_policies(session, body.items, now=utcnow(), actor=caller.username)


@router.post(
    "/api/v1/decisions/bulk/decide",
    response_model=list[BulkDecideOutcome],
    summary="Approve or reject many decisions; one outcome per item",
    responses=_DECIDE,
)
async def bulk_decide(
    body: BulkDecideBody, caller: Approver, temporal: Temporal, engine: Engine, settings: AppSettings
) -> list[BulkDecideOutcome]:
    try:
        return await decide_many(
            temporal,
            engine,
            body.items,
            action=body.action,
            actor=caller.username,
            role=caller.role,
            comment=body.comment,
            task_queue=settings.task_queue(TASK_QUEUE),
        )
    except DecisionError as exc:
        raise _api_error(exc) from None


@router.get(
    "/api/v1/decision-policies",
    response_model=list[repository.PolicyView],
    summary="Autonomy policy per type",
)
def get_policies(_: AnyCaller, session: ReadSession) -> Any:
    return repository.get_policies(session, types=decision_types())


@router.put(
    "/api/v1/decision-policies", response_model=repository.PolicyView, summary="Change a type's policy"
)
def put_policy(body: PolicyBody, caller: Admin, session: DbSession) -> repository.PolicyView:
    _check_types([("body.decision_type", body.decision_type)])
    try:
        return repository.set_policy(
            session,
            decision_type=body.decision_type,
            mode=body.mode,
            threshold=body.threshold,
            guardrails=body.guardrails,
            actor=caller.username,
            timeout_hours=body.timeout_hours,
            on_timeout=body.on_timeout,
            escalation_groups=body.escalation_groups,
        )
    except ValueError as exc:
        raise ApiError(422, f"invalid policy: {exc}") from None
