"""Bulk approval from the queue: POST approves the selection, stores what happened and redirects (303) to the
result page by id, so a reload shows the result again instead of approving again. The result lists the items in
the order they were selected; one approved by someone else meanwhile reads "already approved", not as a failure.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from activities.decisions import repository as repo
from activities.decisions.bulk_results import get_bulk_result, save_bulk_result
from activities.decisions.service import DecisionError, decide_many
from api.decisions.pages import status_of, temporal_client
from api.web.render import render
from api.web.session import CurrentUser, Decider, WebError, WebRoute
from domain.decisions.rules import APPROVED, AUTO_APPROVED, EXECUTED
from merchflow.db.engine import read_session, session_scope
from merchflow.db.types import utcnow
from workflows.decisions.contract import TASK_QUEUE, BulkDecideItem, BulkDecideOutcome

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_BULK = 500
_APPROVED_ALREADY = frozenset({APPROVED, AUTO_APPROVED, EXECUTED})


def _bulk_items(raw: list[str]) -> list[BulkDecideItem]:
    """The ticked boxes in the order the form sent them (the queue's order); a box sent twice counts once."""
    items: dict[str, BulkDecideItem] = {}
    for value in raw:
        decision_id, _, version = value.rpartition(":")
        # ASCII digits only, and few: "²".isdigit() is true, and a 5,000-digit number does not convert
        if not decision_id or not (version.isascii() and version.isdigit() and len(version) <= 10):
            raise WebError(400, "Invalid selection", "The selection was not understood; reload the queue.")
        try:
            item = BulkDecideItem(decision_id=decision_id, expected_version=int(version))
        except ValidationError:
            raise WebError(
                400, "Invalid selection", "The selection was not understood; reload the queue."
            ) from None
        items.setdefault(decision_id, item)
    return list(items.values())


def _outcome(o: BulkDecideOutcome, row: Any, me: str) -> dict[str, Any]:
    item = {"decision_id": o.decision_id, "subject": row.subject if row is not None else None}
    if o.ok:
        return {**item, "outcome": "approved", "message": "approved"}
    if row is not None and row.status in _APPROVED_ALREADY:
        # someone (or this person, in another tab) approved it meanwhile: the wish is met, nothing failed
        who = (
            "you"
            if row.approver == me
            else ("the autonomy policy" if row.approver == "policy" else row.approver)
        )
        done = "approved and executed" if row.status == EXECUTED else "approved"
        return {**item, "outcome": "already", "message": f"already {done}" + (f" by {who}" if who else "")}
    return {**item, "outcome": "not_approved", "message": o.message}


@router.post("/approvals/bulk", response_class=HTMLResponse)
async def bulk_approve(
    request: Request,
    user: Decider,
    items: Annotated[list[str] | None, Form()] = None,
    comment: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    wanted = _bulk_items(items or [])
    if not wanted:
        raise WebError(400, "Nothing selected", "Tick the decisions to approve first.")
    if len(wanted) > MAX_BULK:
        raise WebError(400, "Too many", f"Approve at most {MAX_BULK} decisions at once.")
    client = await temporal_client(request)
    engine = request.app.state.engine
    try:
        outcomes = await decide_many(
            client,
            engine,
            wanted,
            action="approve",
            actor=user.username,
            role=user.role,
            comment=(comment or "").strip() or None,
            task_queue=request.app.state.settings.task_queue(TASK_QUEUE),
        )
    except DecisionError as exc:
        raise WebError(status_of(exc), "Not done", exc.message) from None
    with read_session(engine) as session:
        rows = repo.decision_rows(session, [o.decision_id for o in outcomes])
    results = [_outcome(o, rows.get(o.decision_id), user.username) for o in outcomes]
    with session_scope(engine) as session:
        result_id = save_bulk_result(session, actor=user.username, items=results, now=utcnow())
    return RedirectResponse(f"/approvals/bulk/{result_id}", status_code=303)


@router.get("/approvals/bulk/{result_id}", response_class=HTMLResponse)
def bulk_result(request: Request, user: CurrentUser, result_id: str) -> Response:
    with read_session(request.app.state.engine) as session:
        found = get_bulk_result(session, result_id, actor=user.username)
    if found is None:
        raise WebError(
            404, "Not found", "There is no such bulk approval result (results are kept for a week)."
        )
    counts = {
        k: sum(1 for r in found.items if r["outcome"] == k) for k in ("approved", "already", "not_approved")
    }
    return render(
        request,
        "decisions/bulk_result.html",
        {"results": found.items, "counts": counts, "at": found.created_at},
    )
