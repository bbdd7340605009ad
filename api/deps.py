"""Request dependencies: settings, database sessions, the Temporal client and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlmodel import Session
from temporalio.client import Client

from api.errors import ApiError
from connectors.blobs.port import BlobStore
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


def get_blobs(request: Request) -> BlobStore:
    """The blob store (local directory or S3), built once per app on first use."""
    store = getattr(request.app.state, "blobs", None)
    if store is None:
        from connectors.blobs.factory import build_blob_store

        store = request.app.state.blobs = build_blob_store(request.app.state.settings)
    return store  # type: ignore[no-any-return]


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
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def authenticate(engine: sa.Engine, authorization: str | None) -> Caller:
    """The caller behind an `Authorization: Bearer <token>` header, or a 401. Blocking (one indexed read)."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization or scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "missing bearer token (Authorization: Bearer <token>)", headers=UNAUTHORIZED_HEADERS
        )
    with read_session(engine) as session:
        user = lookup_token(session, token)
    if user is None:
        raise ApiError(401, "invalid or revoked token", headers=UNAUTHORIZED_HEADERS)
    return Caller(user_id=user.id or 0, username=user.username, role=user.role)


def current_caller(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    # API routes (api.routing.ApiRoute) authenticate before the body is read and leave the caller here
    known = getattr(request.state, "caller", None)
    if isinstance(known, Caller):
        return known
    header = f"{creds.scheme} {creds.credentials}" if creds is not None else None
    return authenticate(request.app.state.engine, header)


def require_role(*roles: str) -> Callable[[Caller], Caller]:
    allowed = set(roles) | {"admin"}

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in allowed:
            raise ApiError(
                403, f"role '{caller.role}' may not do this; needs one of: {', '.join(sorted(allowed))}"
            )
        return caller

    check.roles = frozenset(allowed)  # type: ignore[attr-defined]  # read by api.routing to document the 403
    return check


AnyCaller = Annotated[Caller, Depends(current_caller)]
Operator = Annotated[Caller, Depends(require_role("operator"))]
Approver = Annotated[Caller, Depends(require_role("approver"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
DbSession = Annotated[Session, Depends(get_session)]
ReadSession = Annotated[Session, Depends(get_read_session)]
Temporal = Annotated[Client, Depends(get_temporal)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Blobs = Annotated[BlobStore, Depends(get_blobs)]
