"""Signed session cookies, CSRF tokens, the logged-in user, and HTML error handling for the web pages.

The cookie is signed with settings.secret_key (itsdangerous) and carries the CSRF token and, once logged in, the
secret of a server-side session row (merchflow.web_sessions). Every request looks the row and its user up, so
logging out, a password change or a deactivation (which delete the rows) end the session at once, even for a
copied cookie, and a role change applies to the next request. The cookie's Max-Age matches the row's lifetime.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.web.render import render_error
from merchflow.db.engine import read_session, session_scope
from merchflow.settings import Settings
from merchflow.web_sessions import (
    SESSION_TTL,
    create_session,
    session_user,
)
from merchflow.web_sessions import (
    end_session as end_server_session,
)

COOKIE = "mf_web"
SESSION_MAX_AGE = int(
    SESSION_TTL.total_seconds()
)  # the cookie's Max-Age; a signed cookie older is ignored too
CSRF_FIELD = "csrf_token"
DECIDER_ROLES = frozenset({"approver", "admin"})


class WebError(Exception):
    """Rendered as an HTML page with this status, title and message (never JSON: a person reads it)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class LoginRequired(Exception):
    pass


@dataclass(frozen=True)
class WebUser:
    id: int
    username: str
    role: str

    @property
    def can_decide(self) -> bool:
        return self.role in DECIDER_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class WebSession:
    csrf: str
    user: WebUser | None = None
    secret: str = ""  # of the server-side session row; empty while logged out
    dirty: bool = False  # the cookie must be (re)issued with this response


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="merchflow.web.session")


def _load(request: Request) -> WebSession:
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(COOKIE)
    data: dict[str, Any] = {}
    if raw:
        try:
            data = _serializer(settings).loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:  # includes SignatureExpired
            data = {}
    csrf = data.get("c") if isinstance(data.get("c"), str) else None
    if not csrf:
        return WebSession(csrf=secrets.token_urlsafe(32), dirty=True)
    ws = WebSession(csrf=csrf)
    secret = data.get("s")
    if isinstance(secret, str) and secret:
        with read_session(request.app.state.engine) as session:
            user = session_user(session, secret)
        if user is not None and user.id is not None:
            ws.user = WebUser(id=user.id, username=user.username, role=user.role)
            ws.secret = secret
        else:  # logged out elsewhere, expired, deactivated or password changed: an anonymous session again
            ws = WebSession(csrf=secrets.token_urlsafe(32), dirty=True)
    return ws


def get_web_session(request: Request) -> WebSession:
    # cached per request, so the route, the CSRF check and the renderer share one object
    ws = getattr(request.state, "web_session", None)
    if ws is None:
        ws = _load(request)
        request.state.web_session = ws
    return ws  # type: ignore[no-any-return]


def start_session(request: Request, *, user_id: int, username: str, role: str) -> None:
    """Log in: a new server-side session (a session this browser had before ends), and a fresh CSRF token too,
    so a token seen before login is useless afterwards."""
    ws = get_web_session(request)
    with session_scope(request.app.state.engine) as session:
        end_server_session(session, ws.secret)
        ws.secret = create_session(session, user_id=user_id)
    ws.csrf = secrets.token_urlsafe(32)
    ws.user = WebUser(id=user_id, username=username, role=role)
    ws.dirty = True


def end_session(request: Request) -> None:
    """Log out: the row goes, so this cookie (and any copy of it) is worth nothing from now on."""
    ws = get_web_session(request)
    if ws.secret:
        with session_scope(request.app.state.engine) as session:
            end_server_session(session, ws.secret)
    ws.user = None
    ws.secret = ""
    ws.csrf = secrets.token_urlsafe(32)
    ws.dirty = True


def write_cookie(request: Request, response: Response) -> None:
    ws = getattr(request.state, "web_session", None)
    if ws is None or not ws.dirty:
        return
    settings: Settings = request.app.state.settings
    data: dict[str, Any] = {"c": ws.csrf}
    if ws.user is not None:
        data["s"] = ws.secret
    response.set_cookie(
        COOKIE,
        _serializer(settings).dumps(data),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
    )


async def _check_csrf(request: Request) -> None:
    ws = get_web_session(request)
    form = await request.form()  # Starlette caches it; the endpoint's Form() parameters read the same
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), ws.csrf.encode()):
        raise WebError(
            403,
            "Form expired",
            "This form is missing a valid security token (it may be from an old page or another site). "
            "Reload the page and try again.",
        )


class WebRoute(APIRoute):
    """Every POST is CSRF-checked before its endpoint runs, and failures become HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if request.method == "POST":
                    await _check_csrf(request)
                response = await inner(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                nxt = target if request.method == "GET" else "/approvals"
                response = RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)
            except WebError as exc:
                response = render_error(request, exc.status, exc.title, exc.message)
            except RequestValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
                response = render_error(request, 400, "Invalid request", f"Check these fields: {fields}")
            write_cookie(request, response)
            return response

        return handler


def _require_user(request: Request) -> WebUser:
    ws = get_web_session(request)
    if ws.user is None:
        raise LoginRequired
    return ws.user


def _require_decider(user: Annotated[WebUser, Depends(_require_user)]) -> WebUser:
    if not user.can_decide:
        raise WebError(
            403, "Not allowed", f"Your role '{user.role}' can view decisions but not approve or reject them."
        )
    return user


def _require_admin(user: Annotated[WebUser, Depends(_require_user)]) -> WebUser:
    if not user.is_admin:
        raise WebError(403, "Not allowed", "Only administrators can manage users and autonomy settings.")
    return user


Session = Annotated[WebSession, Depends(get_web_session)]
CurrentUser = Annotated[WebUser, Depends(_require_user)]
Decider = Annotated[WebUser, Depends(_require_decider)]
AdminUser = Annotated[WebUser, Depends(_require_admin)]


def client_ip(request: Request) -> str:
    # proxy headers are not trusted (uvicorn runs with proxy_headers=False); the peer address is what counts
    return request.client.host if request.client else "unknown"
