"""Log in and out. Failed attempts are throttled per user name + client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.render import render
from api.web.session import Session, WebRoute, client_ip, end_session, start_session
from merchflow.db.engine import read_session, session_scope
from merchflow.users import (
    LOGIN_WINDOW,
    clear_login_failures,
    get_user,
    login_blocked,
    record_login_failure,
    verify_login,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only local paths: an attacker's `next=https://evil` must not turn the login into an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/approvals"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ws: Session, next: str | None = None) -> Response:
    if ws.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ws: Session,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    engine, ip, username = request.app.state.engine, client_ip(request), username.strip()
    with read_session(engine) as session:
        blocked = login_blocked(session, username=username, ip=ip)
        user = None if blocked else get_user(session, username)
    if blocked:
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "username": username,
                "error": f"Too many failed attempts. Wait {minutes} minutes, then try again.",
            },
            status=429,
        )
    ok, new_hash = verify_login(user, password)  # outside any write transaction: argon2 is slow on purpose
    with session_scope(engine) as session:
        if not ok or user is None:
            record_login_failure(session, username=username, ip=ip)
        else:
            clear_login_failures(session, username=username, ip=ip)
            if new_hash is not None:
                fresh = get_user(session, username)
                if fresh is not None:
                    fresh.password_hash = new_hash
                    session.add(fresh)
                    user.password_hash = new_hash
    if not ok or user is None:
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "username": username, "error": "Wrong user name or password."},
            status=401,
        )
    start_session(request, user_id=user.id or 0, username=user.username, role=user.role)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    end_session(request)
    return RedirectResponse("/login", status_code=303)
