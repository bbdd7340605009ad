"""Administrators: the autonomy policy per decision type (mode, confidence threshold, guard rails), for the types
some feature acts on (workers.registry.decision_types())."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from activities.decisions import repository as repo
from api.web.formatting import Formatter
from api.web.render import formatter, render
from api.web.session import AdminUser, WebError, WebRoute
from domain.money import MoneyError, parse_money
from merchflow.db.engine import read_session, session_scope
from workers.registry import decision_types

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)

MODES = ("manual", "semi-auto", "full-auto")
FLASH = {"saved": "Policy saved."}
_MODE_TEXT = {
    "manual": "Manual: proposals are recorded as recommendations; nothing acts.",
    "semi-auto": "Semi-auto: every proposal waits for a person.",
    "full-auto": "Full-auto: acts on its own at or above {threshold} confidence, otherwise waits for a person.",
}


def sentences(p: repo.PolicyView, fmt: Formatter) -> list[str]:
    """The policy in words, as the admin page shows it (no JSON)."""
    out = [_MODE_TEXT.get(p.mode, p.mode).format(threshold=fmt.percent(p.threshold * 100))]
    rails = p.guardrails
    if rails.get("max_price_change_pct") is not None:
        out.append(f"A person decides any price change above {fmt.percent(rails['max_price_change_pct'])}.")
    if rails.get("max_purchase_amount") is not None:
        out.append(f"A person decides any purchase above {fmt.money(rails['max_purchase_amount'])}.")
    if rails.get("block_below_cost", True):
        out.append("A person decides any new price below cost.")
    groups = " → ".join(p.escalation_groups) or "approvers"
    then = f"it escalates ({groups})" if p.on_timeout == "escalate" else "it expires"
    out.append(f"If nobody decides within {fmt.number(p.timeout_hours)} hours, {then}.")
    return out


def _policies_page(request: Request, *, flash: str | None, kind: str = "ok", status: int = 200) -> Response:
    with read_session(request.app.state.engine) as session:
        policies = repo.get_policies(session, types=decision_types())
    fmt = formatter(request)
    rows = [{**p.model_dump(), "sentences": sentences(p, fmt)} for p in policies]
    return render(
        request,
        "decisions/policies.html",
        {"policies": rows, "modes": MODES, "flash": flash, "flash_kind": kind},
        status=status,
    )


@router.get("/policies", response_class=HTMLResponse)
def policies(request: Request, user: AdminUser, done: str | None = None) -> Response:
    return _policies_page(request, flash=FLASH.get(done or ""))


def _rails(
    max_price_change_pct: str, max_purchase_amount: str, block_below_cost: str | None
) -> dict[str, Any]:
    rails: dict[str, Any] = {"block_below_cost": block_below_cost == "on"}
    if max_price_change_pct.strip():
        # a percentage is not money, but the same rules keep it a plain finite number
        rails["max_price_change_pct"] = float(
            parse_money(max_price_change_pct, field="price change limit", minimum="zero")
        )
    if max_purchase_amount.strip():
        rails["max_purchase_amount"] = str(
            parse_money(max_purchase_amount, field="purchase limit", minimum="zero")
        )
    return rails


@router.post("/policies/{decision_type}", response_class=HTMLResponse)
def save_policy(
    request: Request,
    user: AdminUser,
    decision_type: str,
    mode: Annotated[str, Form()],
    threshold: Annotated[float, Form(ge=0, le=1)],
    max_price_change_pct: Annotated[str, Form(max_length=40)] = "",
    max_purchase_amount: Annotated[str, Form(max_length=40)] = "",
    block_below_cost: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    if decision_type not in decision_types():
        raise WebError(404, "Not found", f"No feature proposes decisions of type {decision_type[:40]!r}.")
    try:
        rails = _rails(max_price_change_pct, max_purchase_amount, block_below_cost)
        with session_scope(request.app.state.engine) as session:
            repo.set_policy(
                session,
                decision_type=decision_type,
                mode=mode,
                threshold=threshold,
                guardrails=rails,
                actor=user.username,
            )
    except (MoneyError, ValueError, ValidationError) as exc:  # the domain's validation errors included
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return _policies_page(request, flash=f"{decision_type} not saved: {message}", kind="bad", status=422)
    return RedirectResponse("/admin/policies?done=saved", status_code=303)
