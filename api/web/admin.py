"""Administrators: users (create, change role, deactivate)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.render import render
from api.web.session import AdminUser, WebError, WebRoute
from merchflow.db.engine import read_session, session_scope
from merchflow.tokens import ROLES
from merchflow.users import MIN_PASSWORD_LENGTH, UserError, create_user, list_users, set_active, set_role

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)

FLASH = {
    "created": "User created.",
    "role": "Role changed.",
    "active": "User updated.",
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
