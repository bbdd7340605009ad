"""Web users: argon2 password hashing, user administration and login throttling.

API tokens (merchflow.tokens) and web passwords belong to the same `app_user` rows, so a role change or a
deactivation takes effect for both at once.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Field, Session, SQLModel, col, select

from merchflow.db.models import User
from merchflow.db.types import UTCDateTime, utcnow
from merchflow.tokens import ROLES
from merchflow.web_sessions import end_user_sessions

if TYPE_CHECKING:
    from merchflow.settings import Settings

MIN_PASSWORD_LENGTH = 10
# Throttling: failures per (username, IP) and per IP alone (the latter stops spraying one password over
# many usernames) within the window; the oldest failure falling out of the window lifts the block.
LOGIN_WINDOW = timedelta(minutes=5)
MAX_FAILURES_PER_USER_IP = 5
MAX_FAILURES_PER_IP = 50

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so "no such user" costs as much time as "wrong password".
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A request about users that cannot be done (unknown user, bad role, weak password...)."""


class LoginAttempt(SQLModel, table=True):
    """A failed web login; rows older than the window are pruned as new failures arrive."""

    __tablename__ = "web_login_attempt"
    __table_args__ = (sa.Index("ix_login_attempt_ip_at", "ip", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))


# ---------------------------------------------------------------- passwords
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters long")


def verify_login(user: User | None, password: str) -> tuple[bool, str | None]:
    """(password right and user active, upgraded hash or None). Pure CPU: call it outside a write
    transaction, since argon2 deliberately takes tens of milliseconds."""
    if user is None or not user.password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    ok, new_hash = _hasher.verify_and_update(password, user.password_hash)
    return ok and user.is_active, new_hash if ok else None


def random_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


# ---------------------------------------------------------------- administration
def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))).all())


def create_user(
    session: Session, *, username: str, password: str, role: str, email: str | None = None
) -> User:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UserError("user name must be 1-100 characters without spaces")
    _check_role(role)
    check_password_strength(password)
    if get_user(session, username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, role=role, email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def _existing(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def set_password(session: Session, *, username: str, password: str) -> User:
    """New password; every web session of the user ends (whoever knew the old one is logged out)."""
    check_password_strength(password)
    user = _existing(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    end_user_sessions(session, user.id)
    return user


def set_role(session: Session, *, username: str, role: str) -> User:
    _check_role(role)
    user = _existing(session, username)
    user.role = role
    session.add(user)
    return user


def set_active(session: Session, *, username: str, active: bool) -> User:
    user = _existing(session, username)
    user.is_active = active
    session.add(user)
    if not active:
        end_user_sessions(session, user.id)
    return user


def ensure_admin_password(session: Session, *, username: str = "admin") -> str:
    """Give the first-start admin (created passwordless with the first API token) a random password."""
    user = get_user(session, username)
    password = random_password()
    if user is None:
        create_user(session, username=username, password=password, role="admin")
    else:
        user.password_hash = hash_password(password)
        user.is_active = True
        session.add(user)
        end_user_sessions(session, user.id)
    return password


# ---------------------------------------------------------------- login throttling
def login_blocked(session: Session, *, username: str, ip: str, now: datetime | None = None) -> bool:
    since = (now or utcnow()) - LOGIN_WINDOW
    recent = select(sa.func.count()).select_from(LoginAttempt).where(col(LoginAttempt.at) >= since)
    per_user = session.exec(
        recent.where(LoginAttempt.ip == ip, LoginAttempt.username == username.lower())
    ).one()
    if per_user >= MAX_FAILURES_PER_USER_IP:
        return True
    return session.exec(recent.where(LoginAttempt.ip == ip)).one() >= MAX_FAILURES_PER_IP


def record_login_failure(session: Session, *, username: str, ip: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.exec(sa.delete(LoginAttempt).where(col(LoginAttempt.at) < now - LOGIN_WINDOW))  # type: ignore[call-overload]
    session.add(LoginAttempt(username=username.lower()[:100], ip=ip[:64], at=now))


def clear_login_failures(session: Session, *, username: str, ip: str) -> None:
    session.exec(  # type: ignore[call-overload]
        sa.delete(LoginAttempt).where(
            col(LoginAttempt.ip) == ip, col(LoginAttempt.username) == username.lower()
        )
    )


def first_admin_password(settings: Settings) -> str:
    """The `admin` web password made on the first `merchflow up`, kept (0600) in the data dir so later runs
    can show it again. A new one is made if the database does not accept the kept one (fresh database,
    switched to PostgreSQL); delete the file to issue a new one."""
    from merchflow.db.engine import engine_for, session_scope

    path = settings.data_dir / "admin-password"
    with session_scope(engine_for(settings.sqlalchemy_url)) as session:
        if path.exists():
            kept = path.read_text().strip()
            if verify_login(get_user(session, "admin"), kept)[0]:
                return kept
        password = ensure_admin_password(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


def web_links(settings: Settings) -> list[tuple[str, str]]:
    """Lines of the `merchflow up` banner."""
    password = first_admin_password(settings)
    return [
        ("Approvals", f"{settings.base_url}/approvals"),
        ("Accounts", f"{settings.base_url}/admin/accounts"),
        ("Web login", f"admin / {password}   (kept in {(settings.data_dir / 'admin-password').resolve()})"),
    ]
