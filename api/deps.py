"""Request dependencies: settings, database sessions, the Temporal client and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from temporalio.client import Client

from api.errors import ApiError
from merchflow.db.engine import read_session, session_scope
from merchflow.settings import Settings
from merchflow.tokens import lookup_token


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> sa.Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine) as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    with read_session(request.app.state.engine) as session:
        yield session


async def get_temporal(request: Request) -> Client:
    client = await request.app.state.temporal.get()
    if client is None:
        raise ApiError(503, "Temporal is not reachable; try again shortly")
    return client  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Caller:
    user_id: int
    username: str
    role: str


_bearer = HTTPBearer(auto_error=False, description="API token from `merchflow token create`")


def current_caller(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)")
    with read_session(request.app.state.engine) as session:
        user = lookup_token(session, creds.credentials)
    if user is None:
        raise ApiError(401, "invalid or revoked token")
    return Caller(user_id=user.id or 0, username=user.username, role=user.role)


def require_role(*roles: str) -> Callable[[Caller], Caller]:
    allowed = set(roles) | {"admin"}

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in allowed:
            raise ApiError(
                403, f"role '{caller.role}' may not do this; needs one of: {', '.join(sorted(allowed))}"
            )
        return caller

    return check


AnyCaller = Annotated[Caller, Depends(current_caller)]
Operator = Annotated[Caller, Depends(require_role("operator"))]
Approver = Annotated[Caller, Depends(require_role("approver"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
DbSession = Annotated[Session, Depends(get_session)]
ReadSession = Annotated[Session, Depends(get_read_session)]
Temporal = Annotated[Client, Depends(get_temporal)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
