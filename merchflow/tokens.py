"""API tokens: random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select

from merchflow.db.models import ApiToken, User

ROLES = ("admin", "operator", "approver", "viewer")
TOKEN_PREFIX = "mf_"  # noqa: S105 - a prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_user(session: Session, *, username: str, role: str) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, role=role)
        session.add(user)
        session.flush()
    return user


def create_token(session: Session, *, user: User, name: str) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id or 0, name=name, token_hash=hash_token(token), prefix=token[:10]))
    session.flush()
    return token


def lookup_token(session: Session, token: str) -> User | None:
    row = session.exec(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if row is None or not row.is_active:
        return None
    return row
