"""Server-side web sessions: created at log-in, looked up on every request, deleted at log-out, and all of a user's
deleted when their password changes or they are deactivated (merchflow.users calls `end_user_sessions`).

The cookie holds a random 256-bit secret (inside the signed cookie); the table holds its SHA-256 digest, so a
database read does not give out working cookies. Sessions expire after `SESSION_TTL` whatever the cookie says.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from merchflow.db.models import User, WebSession
from merchflow.db.types import utcnow

SESSION_TTL = timedelta(hours=12)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_session(session: Session, *, user_id: int, now: datetime | None = None) -> str:
    """A new session for the user; returns the secret for the cookie. Expired rows are pruned on the way."""
    now = now or utcnow()
    session.exec(sa.delete(WebSession).where(col(WebSession.expires_at) <= now))  # type: ignore[call-overload]
    secret = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(secret), user_id=user_id, created_at=now, expires_at=now + SESSION_TTL))
    return secret


def session_user(session: Session, secret: str, *, now: datetime | None = None) -> User | None:
    """The active user this secret is a live session of, or None (unknown, ended, expired, user deactivated)."""
    if not secret:
        return None
    row = session.exec(
        select(User)
        .join(WebSession, col(WebSession.user_id) == col(User.id))
        .where(col(WebSession.id) == _digest(secret), col(WebSession.expires_at) > (now or utcnow()))
    ).first()
    return row if row is not None and row.is_active else None


def end_session(session: Session, secret: str) -> None:
    if secret:
        session.exec(sa.delete(WebSession).where(col(WebSession.id) == _digest(secret)))  # type: ignore[call-overload]


def end_user_sessions(session: Session, user_id: int | None) -> int:
    """Every session of the user, on every device: after a password change or a deactivation."""
    if user_id is None:
        return 0
    result = session.exec(sa.delete(WebSession).where(col(WebSession.user_id) == user_id))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
