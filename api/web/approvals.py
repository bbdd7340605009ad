"""The approval queue, one decision's page, and the approve / reject / edit / bulk actions.

Thin: filters and forms are parsed here, reads go to merchflow.decisions.repository, every action to
merchflow.decisions.service (a Temporal update whose validator checks role, status and version).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.client import Client

from api.web.render import render
from api.web.session import CurrentUser, Decider, WebError, WebRoute
from domain.decisions import KNOWN_TYPES
from merchflow.db.engine import read_session
from merchflow.decisions import repository as repo
from merchflow.decisions.service import (
    BulkDecideItem,
    DecisionConflict,
    DecisionError,
    DecisionForbidden,
    DecisionNotFound,
    decide,
    decide_many,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 50
MAX_BULK = 500
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
DONE = {
    "approve": "Approved.",
    "reject": "Rejected.",
    "edit_approve": "Edited and approved.",
}
# DecisionError subclass -> HTTP status of the page that explains it
STATUS_OF: dict[type[DecisionError], int] = {
    DecisionNotFound: 404,
    DecisionConflict: 409,
    DecisionForbidden: 403,
}


def status_of(exc: DecisionError) -> int:
    return next((s for cls, s in STATUS_OF.items() if isinstance(exc, cls)), 400)


async def temporal_client(request: Request) -> Client:
    client = await request.app.state.temporal.get()
    if client is None:
        raise WebError(503, "Try again shortly", "The workflow service is not reachable right now.")
    return client  # type: ignore[no-any-return]


def _number(name: str, raw: str | None, lo: float, hi: float) -> float | None:
    """Empty form fields mean "no filter" (a plain `float | None` parameter would refuse them)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise WebError(400, "Invalid filter", f"{name} must be a number") from None
    if not lo <= value <= hi:
        raise WebError(400, "Invalid filter", f"{name} must be between {lo:g} and {hi:g}")
    return value


# ---------------------------------------------------------------- queue
@router.get("/approvals", response_class=HTMLResponse)
def queue(
    request: Request,
    user: CurrentUser,
    type: str | None = None,
    marketplace: str | None = None,
    min_confidence: str | None = None,
    max_confidence: str | None = None,
    older_than_hours: str | None = None,
    offset: int = 0,
    done: str | None = None,
    n: int | None = None,
) -> Response:
    f: dict[str, Any] = {
        "type": (type or "").strip() or None,
        "marketplace": (marketplace or "").strip() or None,
        "min_confidence": _number("confidence from", min_confidence, 0, 1),
        "max_confidence": _number("confidence to", max_confidence, 0, 1),
        "older_than_hours": _number("older than", older_than_hours, 0, 24 * 365),
    }
    offset = max(0, offset)
    with read_session(request.app.state.engine) as session:
        items, total = repo.list_decisions(
            session,
            status="pending",
            decision_type=f["type"],
            marketplace=f["marketplace"],
            min_confidence=f["min_confidence"],
            max_confidence=f["max_confidence"],
            older_than_hours=f["older_than_hours"],
            limit=PAGE_SIZE,
            offset=offset,
        )
        type_counts = repo.decision_counts(session).get("pending", {})
    query = {k: v for k, v in f.items() if v is not None}

    def page_url(new_offset: int) -> str:
        return "/approvals?" + urlencode({**query, "offset": max(0, new_offset)})

    flash = DONE.get(done or "")
    if done == "bulk" and n is not None:
        flash = f"{n} approved."
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "total": total,
            "offset": offset,
            "limit": PAGE_SIZE,
            "f": {**f, "active": bool(query)},
            "type_counts": dict(sorted(type_counts.items())),
            "total_pending": sum(type_counts.values()),
            "types": sorted(set(KNOWN_TYPES) | set(type_counts)),
            "marketplaces": sorted(set(MARKETPLACES) | ({f["marketplace"]} if f["marketplace"] else set())),
            "page_url": page_url,
            "flash": flash,
        },
    )


# ---------------------------------------------------------------- one decision
def summary_context(d: repo.DecisionView) -> dict[str, Any]:
    keys = list(dict.fromkeys([*d.proposed.keys(), *d.current.keys()]))
    return {"d": d, "keys": keys}


def detail_context(request: Request, decision_id: str) -> dict[str, Any]:
    with read_session(request.app.state.engine) as session:
        d = repo.get_decision(session, decision_id)
        if d is None:
            raise WebError(404, "Not found", f"There is no decision {decision_id!r}.")
        history = repo.decision_history(session, decision_id)
    evidence = d.evidence
    return {
        **summary_context(d),
        "history": history,
        "factors": d.factors,
        "competitor_prices": [e for e in evidence if e.get("kind") == "competitor_price"],
        "images": [e for e in evidence if e.get("kind") == "image" or e.get("image_url")],
        "other_evidence": [
            e
            for e in evidence
            if e.get("kind") not in ("competitor_price", "image") and not e.get("image_url")
        ],
        "edit_fields": [(k, "" if v is None else v) for k, v in d.proposed.items()],
    }


@router.get("/approvals/{decision_id}", response_class=HTMLResponse)
def detail(request: Request, user: CurrentUser, decision_id: str, done: str | None = None) -> Response:
    return render(
        request, "detail.html", {**detail_context(request, decision_id), "flash": DONE.get(done or "")}
    )


def parse_edits(form: Any, proposed: dict[str, Any]) -> dict[str, Any]:
    """The edited proposal: only known keys, each converted back to its original JSON type."""
    edited: dict[str, Any] = {}
    for key, original in proposed.items():
        raw = form.get(f"edit.{key}")
        if not isinstance(raw, str):
            edited[key] = original
            continue
        raw = raw.strip()
        try:
            if isinstance(original, bool):
                edited[key] = raw.lower() in ("true", "1", "yes", "on")
            elif isinstance(original, int):
                edited[key] = int(raw)
            elif isinstance(original, float):
                edited[key] = float(raw)
            else:
                edited[key] = raw
        except ValueError:
            raise WebError(400, "Invalid value", f"{key} must be a number, not {raw!r}") from None
    return edited


@router.post("/approvals/{decision_id}/decide", response_class=HTMLResponse)
async def decide_one(
    request: Request,
    user: Decider,
    decision_id: str,
    action: Annotated[str, Form()],
    version: Annotated[int, Form()],
    comment: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    client = await temporal_client(request)
    edited = None
    if action == "edit_approve":
        with read_session(request.app.state.engine) as session:
            d = repo.get_decision(session, decision_id)
        if d is None:
            raise WebError(404, "Not found", f"There is no decision {decision_id!r}.")
        edited = parse_edits(await request.form(), d.proposed)
    try:
        await decide(
            client,
            decision_id=decision_id,
            action=action,
            actor=user.username,
            role=user.role,
            expected_version=version,
            edited_value=edited,
            comment=(comment or "").strip() or None,
            engine=request.app.state.engine,
        )
    except DecisionNotFound as exc:
        raise WebError(404, "Not found", exc.message) from None
    except DecisionError as exc:
        # show the decision as it is now, with the reason this action did not happen
        context = detail_context(request, decision_id)
        prefix = "Not done: someone else got there first or it changed. " if status_of(exc) == 409 else ""
        return render(
            request,
            "detail.html",
            {**context, "flash": prefix + exc.message, "flash_kind": "bad"},
            status=status_of(exc),
        )
    return RedirectResponse(f"/approvals?{urlencode({'done': action})}", status_code=303)


# ---------------------------------------------------------------- bulk
def _bulk_items(raw: list[str]) -> list[BulkDecideItem]:
    items: dict[str, BulkDecideItem] = {}
    for value in raw:
        decision_id, _, version = value.rpartition(":")
        if not decision_id or not version.isdigit():
            raise WebError(400, "Invalid selection", "The selection was not understood; reload the queue.")
        items[decision_id] = BulkDecideItem(decision_id=decision_id, expected_version=int(version))
    return list(items.values())


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
        )
    except DecisionError as exc:
        raise WebError(status_of(exc), "Not done", exc.message) from None
    with read_session(engine) as session:
        rows = repo.decision_rows(session, [o.decision_id for o in outcomes])
    results = [
        {
            "decision_id": o.decision_id,
            "subject": rows[o.decision_id].subject if o.decision_id in rows else None,
            "ok": o.ok,
            "message": "approved" if o.ok else o.message,
        }
        for o in outcomes
    ]
    return render(
        request,
        "bulk_result.html",
        {"results": results, "ok_count": sum(1 for r in results if r["ok"])},
        status=200,
    )
