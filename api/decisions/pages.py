"""The approval queue, one decision's page, and the approve / reject / edit / bulk actions.

Thin: filters and forms are parsed here, reads go to activities.decisions.repository, every action to
activities.decisions.service (a Temporal update whose validator checks role, status and version).
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import TemplateNotFound
from temporalio.client import Client

from activities.decisions import repository as repo
from activities.decisions.service import (
    DecisionConflict,
    DecisionError,
    DecisionForbidden,
    DecisionInvalid,
    DecisionNotFound,
    decide,
)
from api.decisions import present
from api.web.formatting import Formatter
from api.web.render import formatter, render, templates
from api.web.session import CurrentUser, Decider, WebError, WebRoute
from domain.bounds import MAX_OFFSET, MAX_VERSION
from merchflow.db.engine import read_session
from workers.registry import decision_types

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 50
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
    DecisionInvalid: 422,
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
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    done: str | None = None,
) -> Response:
    known = decision_types()
    f: dict[str, Any] = {
        "type": (type or "").strip() or None,
        "marketplace": (marketplace or "").strip() or None,
        "min_confidence": _number("confidence from", min_confidence, 0, 1),
        "max_confidence": _number("confidence to", max_confidence, 0, 1),
        "older_than_hours": _number("older than", older_than_hours, 0, 24 * 365),
    }
    if f["type"] is not None and f["type"] not in known:
        raise WebError(
            400, "Invalid filter", f"There is no decision type {f['type'][:40]!r}; known: {', '.join(known)}."
        )
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
        pending = repo.decision_counts(session).get("pending", {})
    # chips only for types that can be proposed: a junk type (written before types were checked) is no filter
    type_counts = {t: n for t, n in sorted(pending.items()) if t in known}
    query = {k: v for k, v in f.items() if v is not None}

    def page_url(new_offset: int) -> str:
        return "/approvals?" + urlencode({**query, "offset": max(0, new_offset)})

    flash = DONE.get(done or "")
    fmt = formatter(request)
    return render(
        request,
        "decisions/queue.html",
        {
            "items": [queue_item(d, fmt) for d in items],
            "total": total,
            "offset": offset,
            "limit": PAGE_SIZE,
            "f": {**f, "active": bool(query)},
            "type_counts": type_counts,
            "total_pending": sum(pending.values()),
            "types": known,
            "marketplaces": sorted(set(MARKETPLACES) | ({f["marketplace"]} if f["marketplace"] else set())),
            "page_url": page_url,
            "flash": flash,
        },
    )


def queue_item(d: repo.DecisionView, fmt: Formatter) -> dict[str, Any]:
    """What one line of the queue shows: the change, its expected effect and the reasoning, in short."""
    return {
        "d": d,
        "changes": [c for c in present.changes(d, fmt) if c.changed],
        "effect": present.effect_lines(d, fmt, with_basis=False),
        "reasoning": present.reasoning_short(d),
    }


# ---------------------------------------------------------------- one decision
def summary_context(request: Request, d: repo.DecisionView) -> dict[str, Any]:
    fmt = formatter(request)
    return {"d": d, "changes": present.changes(d, fmt), "effect": present.effect_lines(d, fmt)}


def detail_context(request: Request, decision_id: str) -> dict[str, Any]:
    with read_session(request.app.state.engine) as session:
        d = repo.get_decision(session, decision_id)
        if d is None:
            raise WebError(404, "Not found", f"There is no decision {decision_id!r}.")
        history = repo.decision_history(session, decision_id)
    fmt = formatter(request)
    return {
        **summary_context(request, d),
        "type_partial": type_partial(d.decision_type),
        "history": present.history(history, d, fmt),
        "factors": present.factor_rows(d, fmt),
        "evidence": present.evidence(d, fmt),
        "edit_fields": [(k, present.label(k), "" if v is None else v) for k, v in d.proposed.items()],
    }


def type_partial(decision_type: str) -> str | None:
    """A feature may show its own decision type its own way: `decisions/types/<type>.html` in its templates,
    included by the decision page (with the decide form's edits) in place of the generic change table."""
    name = f"decisions/types/{decision_type}.html"
    try:
        templates.env.get_template(name)
    except TemplateNotFound:
        return None
    return name


@router.get("/approvals/{decision_id}", response_class=HTMLResponse)
def detail(request: Request, user: CurrentUser, decision_id: str, done: str | None = None) -> Response:
    return render(
        request,
        "decisions/detail.html",
        {**detail_context(request, decision_id), "flash": DONE.get(done or "")},
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
                if not math.isfinite(edited[key]):
                    raise ValueError(raw)
            else:
                edited[key] = raw
        except ValueError:
            raise WebError(422, "Invalid value", f"{key} must be a number, not {raw[:40]!r}") from None
    return edited


@router.post("/approvals/{decision_id}/decide", response_class=HTMLResponse)
async def decide_one(
    request: Request,
    user: Decider,
    decision_id: str,
    action: Annotated[str, Form()],
    version: Annotated[int, Form(ge=1, le=MAX_VERSION)],
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
            "decisions/detail.html",
            {**context, "flash": prefix + exc.message, "flash_kind": "bad"},
            status=status_of(exc),
        )
    return RedirectResponse(f"/approvals?{urlencode({'done': action})}", status_code=303)
