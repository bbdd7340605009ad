"""Operators' pages: a deal (numbers, seller messages shown escaped, timeline) and the form that marks a bought item
received with its condition and photos (logged-in operators; CSRF-checked POST; GET only shows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.service import RPCError

from activities.arbitrage import queries
from api.arbitrage.receipts import store_photos
from api.errors import ApiError
from api.web.render import render
from api.web.session import CurrentUser, WebError, WebRoute
from merchflow.db.engine import read_session
from workflows.arbitrage.contract import RECEIVED_SIGNAL, ReceiptSignal, deal_workflow_id

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CONDITIONS = ("new", "sealed", "like_new", "very_good", "good", "acceptable", "for_parts")
OPERATORS = frozenset({"operator", "admin"})


def _detail(request: Request, deal_id: str) -> dict[str, Any]:
    with read_session(request.app.state.engine) as s:
        out = queries.deal_detail(s, deal_id)
    if out is None:
        raise WebError(404, "No such deal", f"There is no deal {deal_id}.")
    return out


@router.get("/arbitrage/deals", response_class=HTMLResponse)
def deals_page(request: Request, user: CurrentUser, state: str | None = None) -> Response:
    with read_session(request.app.state.engine) as s:
        total, rows = queries.deals_page(s, state=state, source=None, search_id=None, offset=0, limit=200)
        report = queries.report(s)
    return render(request, "arbitrage/deals.html", {"deals": [queries.deal_json(d) for d in rows], "total": total,
                                                    "report": report, "state": state})  # fmt: skip


@router.get("/arbitrage/deals/{deal_id}", response_class=HTMLResponse)
async def deal_page(request: Request, deal_id: str, user: CurrentUser) -> Response:
    d = await run_in_threadpool(_detail, request, deal_id)
    return render(request, "arbitrage/deal.html", {"d": d, "conditions": CONDITIONS,
                                                   "can_receive": user.role in OPERATORS and d["state"] == "purchased"})  # fmt: skip


@router.post("/arbitrage/deals/{deal_id}/receive")
async def receive(request: Request, deal_id: str, user: CurrentUser, condition: Annotated[str, Form(max_length=20)],
                  notes: Annotated[str, Form(max_length=2000)] = "",
                  photos: Annotated[list[UploadFile] | None, File()] = None) -> Response:  # fmt: skip
    if user.role not in OPERATORS:
        raise WebError(403, "Not allowed", f"Your role '{user.role}' cannot receive goods; operators can.")
    if condition not in CONDITIONS:
        raise WebError(400, "Invalid condition", f"Choose one of {', '.join(CONDITIONS)}.")
    await run_in_threadpool(_detail, request, deal_id)
    try:
        keys = await store_photos(request, deal_id, [p for p in photos or [] if p.filename])
    except ApiError as exc:
        raise WebError(exc.status, "Photo refused", exc.message) from None
    client = await request.app.state.temporal.get()
    if client is None:
        raise WebError(503, "Try again shortly", "The workflow service is not reachable right now.")
    try:
        await client.get_workflow_handle(deal_workflow_id(deal_id)).signal(
            RECEIVED_SIGNAL,
            ReceiptSignal(condition=condition, photos=keys, notes=notes, received_by=user.username),
        )
    except RPCError as exc:
        raise WebError(
            409, "Deal not waiting", f"This deal is not waiting for delivery ({exc.message})."
        ) from None
    return RedirectResponse(f"/arbitrage/deals/{deal_id}?received=1", status_code=303)
