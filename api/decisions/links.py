"""Signed links from notifications. GET only shows a confirmation page (mail scanners open every link);
the POST from that page consumes the link and acts, once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.decisions import repository as repo
from activities.decisions.links import (
    LinkClaims,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    consume_decision_link,
    verify_decision_link,
)
from activities.decisions.service import DecisionError, decide
from api.decisions.pages import status_of, summary_context, temporal_client
from api.web.render import render
from api.web.session import CurrentUser, Decider, WebError, WebRoute
from merchflow.db.engine import read_session, session_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_REFUSED = {
    LinkExpired: (410, "Link expired"),
    LinkUsed: (410, "Link already used"),
    LinkInvalid: (400, "Link not valid"),
}


def _refuse(exc: DecisionError) -> WebError:
    status, title = next((v for cls, v in _REFUSED.items() if isinstance(exc, cls)), (400, "Link refused"))
    return WebError(status, title, exc.message[:1].upper() + exc.message[1:] + ".")


def _stale(d: repo.DecisionView | None, claims: LinkClaims) -> str | None:
    """Why this link no longer fits its decision, or None while it does."""
    if d is None:
        return "The decision this link points to does not exist any more."
    if d.status != "pending":
        by = f" by {d.approver}" if d.approver else ""
        return f"This decision is already {d.status.replace('_', ' ')}{by}; the link no longer applies."
    if d.version != claims.version:
        return (
            f"This decision changed after the link was sent (link: version {claims.version}, "
            f"now: version {d.version}). Open the decision to see what changed."
        )
    return None


@router.get("/approvals/link/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, user: CurrentUser, token: str) -> Response:
    settings = request.app.state.settings
    with read_session(request.app.state.engine) as session:
        try:
            claims = verify_decision_link(settings, session, token)
        except DecisionError as exc:
            raise _refuse(exc) from None
        d = repo.get_decision(session, claims.decision_id)
    stale = _stale(d, claims)
    if stale is not None or d is None:
        raise WebError(409, "Link out of date", stale or "")
    return render(request, "decisions/link_confirm.html", {**summary_context(request, d), "token": token})


@router.post("/approvals/link/{token}", response_class=HTMLResponse)
async def confirm(
    request: Request,
    user: Decider,
    token: str,
    action: Annotated[str, Form()],
    comment: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    if action not in ("approve", "reject"):
        raise WebError(400, "Invalid action", "A link can only approve or reject; open the decision to edit.")
    client = await temporal_client(request)
    settings, engine = request.app.state.settings, request.app.state.engine
    # The link is consumed in its own committed transaction *before* acting: holding a write transaction
    # across the Temporal update would block (on SQLite) the activity that records the decision. A failure
    # after this point spends the link, never acts twice; the decision page stays available.
    with session_scope(engine) as session:
        try:
            claims = verify_decision_link(settings, session, token)
            stale = _stale(repo.get_decision(session, claims.decision_id), claims)
            if stale is not None:
                raise WebError(409, "Link out of date", stale)
            consume_decision_link(session, claims)
        except (LinkExpired, LinkUsed, LinkInvalid) as exc:
            raise _refuse(exc) from None
    try:
        await decide(
            client,
            decision_id=claims.decision_id,
            action=action,
            actor=user.username,
            role=user.role,
            expected_version=claims.version,
            comment=(comment or "").strip() or None,
            engine=engine,
        )
    except DecisionError as exc:
        raise WebError(status_of(exc), "Not done", exc.message) from None
    return RedirectResponse(f"/approvals/{claims.decision_id}?done={action}", status_code=303)
