"""Deciding: the one entry point the REST API and the approver pages call.

Workflow-backed decisions are decided through the `decide` update of their workflow (its validator checks
role, status and version). Bulk decisions (created in the database without a workflow, see bulk.py) are
decided by a guarded row update; pass `engine=` so `decide` can tell the two apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.decisions.errors import (
    DecisionConflict,
    DecisionError,
    DecisionForbidden,
    DecisionInvalid,
    DecisionNotFound,
)
from activities.decisions.tables import Decision
from domain.decisions.rules import DECIDER_ROLES, clean_edit, human_time
from merchflow.db.engine import read_session
from workflows.decisions.contract import (
    DECIDE_UPDATE,
    STATE_QUERY,
    BulkDecideItem,
    BulkDecideOutcome,
    DecideRequest,
    DecideResult,
    DecisionState,
    decision_workflow_id,
)

__all__ = [
    "DecideResult",
    "DecisionConflict",
    "DecisionError",
    "DecisionForbidden",
    "DecisionInvalid",
    "DecisionNotFound",
    "decide",
    "decide_many",
]

_ERRORS: dict[str, type[DecisionError]] = {
    "DecisionConflict": DecisionConflict,
    "DecisionForbidden": DecisionForbidden,
    "DecisionInvalid": DecisionInvalid,
    "DecisionNotFound": DecisionNotFound,
}


_CHUNK = 5000


def _from_failure(exc: BaseException) -> DecisionError:
    cause = exc.cause if isinstance(exc, WorkflowUpdateFailedError) else exc
    if isinstance(cause, ApplicationError) and cause.type in _ERRORS:
        return _ERRORS[cause.type](cause.message)
    return DecisionError(str(getattr(cause, "message", None) or cause))


async def _exists(client: Client, decision_id: str) -> bool:
    try:
        await client.get_workflow_handle(decision_workflow_id(decision_id)).describe()
        return True
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise


async def _closed_message(client: Client, decision_id: str) -> str:
    """The workflow has finished: say by whom and when, from its last state."""
    try:
        state = await client.get_workflow_handle(decision_workflow_id(decision_id)).query(
            STATE_QUERY, result_type=DecisionState
        )
    except Exception:
        return "this decision is already closed"
    who = f" by {state.approver}" if state.approver else ""
    when = f" at {human_time(state.decided_at)}" if state.decided_at else ""
    return f"already {state.status.replace('_', ' ')}{who}{when}"


async def decide(
    client: Client,
    *,
    decision_id: str,
    action: str,
    actor: str,
    role: str,
    expected_version: int,
    edited_value: dict[str, Any] | None = None,
    comment: str | None = None,
    engine: sa.Engine | None = None,
) -> DecideResult:
    """Approve / reject / edit-and-approve one decision. Returns once the decision is recorded (the action
    itself runs afterwards in the workflow). Raises DecisionForbidden / DecisionConflict / DecisionNotFound /
    DecisionInvalid with a message meant for the person deciding."""
    if role not in DECIDER_ROLES:
        raise DecisionForbidden(f"role '{role}' may not decide; approvers and admins can")
    if action not in ("approve", "reject", "edit_approve"):
        raise DecisionInvalid(f"unknown action {action!r}")
    if action == "edit_approve" and not edited_value:
        raise DecisionInvalid("edit and approve needs the edited value")
    if edited_value:
        try:  # here, before the value travels as JSON (a non-finite float would arrive as null)
            edited_value = clean_edit(edited_value)
        except ValueError as exc:
            raise DecisionInvalid(str(exc)) from None
    if engine is not None:
        with read_session(engine) as session:
            row = session.get(Decision, decision_id)
        # no row yet may still be a workflow that has not recorded its proposal: the update path decides
        if row is not None and row.workflow_id is None:
            from activities.decisions.bulk import decide_rows

            outcome = decide_rows(
                engine,
                [BulkDecideItem(decision_id=decision_id, expected_version=expected_version)],
                action=action,
                actor=actor,
                role=role,
                comment=comment,
                edited_value=edited_value,
            )[0]
            if outcome.ok:
                return DecideResult(
                    decision_id=decision_id, status=outcome.status or "", version=outcome.version or 0,
                    message=outcome.message,
                )  # fmt: skip
            by_code = {cls.code: cls for cls in _ERRORS.values()}
            raise by_code.get(outcome.code or "", DecisionError)(outcome.message)
    request = DecideRequest(
        action=action,  # type: ignore[arg-type]
        actor=actor,
        role=role,
        expected_version=expected_version,
        edited_value=edited_value,
        comment=comment,
    )
    handle = client.get_workflow_handle(decision_workflow_id(decision_id))
    try:
        return await handle.execute_update(DECIDE_UPDATE, request, result_type=DecideResult)
    except WorkflowUpdateFailedError as exc:
        raise _from_failure(exc) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise DecisionError("the decision service did not answer in time; try again") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # "not found" covers both a workflow that never existed and one that already closed
            if await _exists(client, decision_id):
                raise DecisionConflict(await _closed_message(client, decision_id)) from None
            raise DecisionNotFound(f"decision {decision_id} does not exist") from None
        raise


async def decide_many(
    client: Client,
    engine: sa.Engine,
    items: Sequence[BulkDecideItem],
    *,
    action: str,
    actor: str,
    role: str,
    comment: str | None = None,
    concurrency: int = 16,
    task_queue: str | None = None,
) -> list[BulkDecideOutcome]:
    """Bulk approve / reject: workflow-less rows in one guarded update (+ one batch execution workflow),
    workflow-backed ones through their update, a few at a time. One outcome per item, in order."""
    if role not in DECIDER_ROLES:
        raise DecisionForbidden(f"role '{role}' may not decide; approvers and admins can")
    if action not in ("approve", "reject"):
        raise DecisionInvalid("bulk decisions can only approve or reject")
    from activities.decisions.bulk import decide_rows, kick_batch_executor

    ids = [i.decision_id for i in items]
    kinds: dict[str, str | None] = {}
    with read_session(engine) as session:
        for start in range(0, len(ids), _CHUNK):  # SQLite caps bound parameters per statement
            part = ids[start : start + _CHUNK]
            kinds.update(
                session.exec(  # type: ignore[call-overload]
                    sa.select(Decision.id, Decision.workflow_id).where(Decision.id.in_(part))  # type: ignore[attr-defined]
                ).all()
            )
    rowwise = [i for i in items if i.decision_id in kinds and kinds[i.decision_id] is None]
    flowwise = [i for i in items if kinds.get(i.decision_id)]
    results: dict[str, BulkDecideOutcome] = {
        i.decision_id: BulkDecideOutcome(
            decision_id=i.decision_id, ok=False, code="not_found", message="decision does not exist"
        )
        for i in items
        if i.decision_id not in kinds
    }
    if rowwise:
        done = decide_rows(engine, rowwise, action=action, actor=actor, role=role, comment=comment)
        results.update({o.decision_id: o for o in done})
        if action == "approve" and any(o.ok for o in done):
            await kick_batch_executor(client, task_queue=task_queue)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: BulkDecideItem) -> BulkDecideOutcome:
        async with gate:
            try:
                r = await decide(
                    client,
                    decision_id=item.decision_id,
                    action=action,
                    actor=actor,
                    role=role,
                    expected_version=item.expected_version,
                    comment=comment,
                )
                return BulkDecideOutcome(
                    decision_id=r.decision_id, ok=True, status=r.status, version=r.version, message=r.message
                )
            except DecisionError as exc:
                return BulkDecideOutcome(
                    decision_id=item.decision_id, ok=False, code=exc.code, message=exc.message
                )

    for outcome in await asyncio.gather(*(one(i) for i in flowwise)):
        results[outcome.decision_id] = outcome
    return [results[i.decision_id] for i in items]
