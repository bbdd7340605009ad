"""Administrators: users (create, change role, deactivate) and the autonomy policy per decision type."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.web.render import render
from api.web.session import AdminUser, WebError, WebRoute
from merchflow.db.engine import read_session, session_scope
from merchflow.decisions import repository as repo
from merchflow.tokens import ROLES
from merchflow.users import MIN_PASSWORD_LENGTH, UserError, create_user, list_users, set_active, set_role

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)

MODES = ("manual", "semi-auto", "full-auto")
FLASH = {
    "created": "User created.",
    "role": "Role changed.",
    "active": "User updated.",
    "saved": "Policy saved.",
}


def _users_page(request: Request, *, flash: str | None, kind: str = "ok", status: int = 200) -> Response:
    with read_session(request.app.state.engine) as session:
        users = list_users(session)
    return render(
        request,
        "users.html",
        {
            "users": users,
            "roles": ROLES,
            "min_password": MIN_PASSWORD_LENGTH,
            "flash": flash,
            "flash_kind": kind,
        },
        status=status,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: AdminUser, done: str | None = None) -> Response:
    return _users_page(request, flash=FLASH.get(done or ""))


def _user_change(request: Request, fn: Any, done: str, **kwargs: Any) -> Response:
    try:
        with session_scope(request.app.state.engine) as session:
            fn(session, **kwargs)
    except UserError as exc:
        return _users_page(request, flash=str(exc), kind="bad", status=400)
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    user: AdminUser,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    return _user_change(request, create_user, "created", username=username, password=password, role=role)


def _not_self(user: AdminUser, username: str) -> None:
    # an admin locking themselves out would leave nobody to undo it
    if username == user.username:
        raise WebError(400, "Not allowed", "You cannot change your own role or deactivate yourself.")


@router.post("/users/{username}/role", response_class=HTMLResponse)
def change_role(request: Request, user: AdminUser, username: str, role: Annotated[str, Form()]) -> Response:
    _not_self(user, username)
    return _user_change(request, set_role, "role", username=username, role=role)


@router.post("/users/{username}/active", response_class=HTMLResponse)
def change_active(
    request: Request, user: AdminUser, username: str, active: Annotated[str, Form()]
) -> Response:
    _not_self(user, username)
    return _user_change(request, set_active, "active", username=username, active=active == "true")


# ---------------------------------------------------------------- autonomy policies
def _policies_page(request: Request, *, flash: str | None, kind: str = "ok", status: int = 200) -> Response:
    with read_session(request.app.state.engine) as session:
        policies = repo.get_policies(session)
    rows = [
        {**p.model_dump(), "guardrails_json": json.dumps(p.guardrails, indent=None, sort_keys=True)}
        for p in policies
    ]
    return render(
        request,
        "policies.html",
        {"policies": rows, "modes": MODES, "flash": flash, "flash_kind": kind},
        status=status,
    )


@router.get("/policies", response_class=HTMLResponse)
def policies(request: Request, user: AdminUser, done: str | None = None) -> Response:
    return _policies_page(request, flash=FLASH.get(done or ""))


@router.post("/policies/{decision_type}", response_class=HTMLResponse)
def save_policy(
    request: Request,
    user: AdminUser,
    decision_type: str,
    mode: Annotated[str, Form()],
    threshold: Annotated[float, Form(ge=0, le=1)],
    guardrails: Annotated[str, Form(max_length=5000)] = "{}",
) -> Response:
    try:
        rails = json.loads(guardrails or "{}")
        if not isinstance(rails, dict):
            raise ValueError("guard rails must be a JSON object")
        with session_scope(request.app.state.engine) as session:
            repo.set_policy(
                session,
                decision_type=decision_type,
                mode=mode,
                threshold=threshold,
                guardrails=rails,
                actor=user.username,
            )
    except (ValueError, ValidationError) as exc:  # JSONDecodeError and the domain's validation errors
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return _policies_page(request, flash=f"{decision_type} not saved: {message}", kind="bad", status=400)
    return RedirectResponse("/admin/policies?done=saved", status_code=303)
