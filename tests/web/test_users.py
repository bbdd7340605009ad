"""merchflow/users.py: argon2 passwords, user administration, login throttling, the first-start admin."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
import sqlalchemy as sa

from merchflow.db.engine import read_session, session_scope
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from merchflow.tokens import create_token, ensure_user
from merchflow.users import (
    LOGIN_WINDOW,
    MAX_FAILURES_PER_USER_IP,
    UserError,
    clear_login_failures,
    create_user,
    first_admin_password,
    get_user,
    list_users,
    login_blocked,
    record_login_failure,
    set_active,
    set_password,
    set_role,
    verify_login,
)


def test_passwords_are_argon2_hashed_and_verified(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, username="alice", password="a long secret", role="approver")
    with read_session(engine) as session:
        alice = get_user(session, "alice")
    assert alice is not None and alice.password_hash is not None
    assert alice.password_hash.startswith("$argon2id$") and "a long secret" not in alice.password_hash
    assert verify_login(alice, "a long secret")[0] is True
    assert verify_login(alice, "a long secreT")[0] is False
    assert verify_login(None, "a long secret")[0] is False  # unknown user: refused, same work done


def test_user_administration_rules(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, username="bob", password="0123456789", role="viewer")
        with pytest.raises(UserError, match="already exists"):
            create_user(session, username="bob", password="0123456789", role="viewer")
        with pytest.raises(UserError, match="unknown role"):
            create_user(session, username="carl", password="0123456789", role="boss")
        with pytest.raises(UserError, match="at least 10"):
            create_user(session, username="carl", password="short", role="viewer")
        with pytest.raises(UserError, match="without spaces"):
            create_user(session, username="c d", password="0123456789", role="viewer")
        set_role(session, username="bob", role="approver")
        with pytest.raises(UserError, match="no user"):
            set_role(session, username="nobody", role="viewer")
    with read_session(engine) as session:
        bob = get_user(session, "bob")
        assert bob is not None and bob.role == "approver"
    with session_scope(engine) as session:
        set_active(session, username="bob", active=False)
    with read_session(engine) as session:
        bob = get_user(session, "bob")
        assert [u.username for u in list_users(session)] == ["bob"]
    assert verify_login(bob, "0123456789")[0] is False  # deactivated users cannot log in
    with session_scope(engine) as session:
        set_active(session, username="bob", active=True)
        set_password(session, username="bob", password="another password")
    with read_session(engine) as session:
        bob = get_user(session, "bob")
    assert verify_login(bob, "another password")[0] is True
    assert verify_login(bob, "0123456789")[0] is False


def test_login_throttling_per_user_and_address(engine: sa.Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        for _ in range(MAX_FAILURES_PER_USER_IP - 1):
            record_login_failure(session, username="Alice", ip="10.0.0.1", now=now)
    with read_session(engine) as session:
        assert not login_blocked(session, username="alice", ip="10.0.0.1", now=now)
    with session_scope(engine) as session:
        record_login_failure(session, username="alice", ip="10.0.0.1", now=now)
    with read_session(engine) as session:
        assert login_blocked(session, username="ALICE", ip="10.0.0.1", now=now)
        assert not login_blocked(session, username="alice", ip="10.0.0.2", now=now)  # other address
        assert not login_blocked(session, username="bob", ip="10.0.0.1", now=now)  # other user
        # the block lifts once the failures fall out of the window
        later = now + LOGIN_WINDOW + timedelta(seconds=1)
        assert not login_blocked(session, username="alice", ip="10.0.0.1", now=later)
    with session_scope(engine) as session:
        clear_login_failures(session, username="alice", ip="10.0.0.1")
    with read_session(engine) as session:
        assert not login_blocked(session, username="alice", ip="10.0.0.1", now=now)


def test_first_admin_password_is_kept_private_and_stable(tmp_path: object, db_url: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",  # type: ignore[operator]
        database_url=db_url,  # type: ignore[arg-type]
        seed_demo=False,
    )
    from merchflow.db.engine import engine_for

    engine = engine_for(settings.sqlalchemy_url)
    with session_scope(engine) as session:  # `up` may already have made the passwordless admin token user
        create_token(session, user=ensure_user(session, username="admin", role="admin"), name="first")
    password = first_admin_password(settings)
    path = settings.data_dir / "admin-password"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == password and len(password) >= 20
    assert first_admin_password(settings) == password  # idempotent
    with read_session(engine) as session:
        admin = get_user(session, "admin")
    assert admin is not None and admin.role == "admin" and verify_login(admin, password)[0]
    # a kept password the database no longer accepts (fresh database) is replaced
    path.write_text("stale-password-123\n")
    renewed = first_admin_password(settings)
    assert renewed != "stale-password-123"
    with read_session(engine) as session:
        assert verify_login(get_user(session, "admin"), renewed)[0]


def test_cli_user_create(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from merchflow.cli import app
    from merchflow.db.engine import make_engine
    from merchflow.db.migrate import upgrade
    from merchflow.settings import get_settings

    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    monkeypatch.setenv("MERCHFLOW_DATABASE_URL", url)
    monkeypatch.setenv("MERCHFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(
            app,
            ["user", "create", "--username", "ann", "--role", "approver", "--password-stdin"],
            input="ann's password\n",
        )
        assert ok.exit_code == 0, ok.output
        prompted = runner.invoke(
            app,
            ["user", "create", "--username", "ben", "--role", "viewer"],
            input="ben's password\nben's password\n",
        )
        assert prompted.exit_code == 0, prompted.output
        again = runner.invoke(
            app,
            ["user", "create", "--username", "ann", "--role", "approver", "--password-stdin"],
            input="whatever123\n",
        )
        assert again.exit_code == 2 and "already exists" in again.output
        bad = runner.invoke(
            app,
            ["user", "create", "--username", "cy", "--role", "boss", "--password-stdin"],
            input="0123456789\n",
        )
        assert bad.exit_code == 2 and "unknown role" in bad.output
    finally:
        get_settings.cache_clear()
    engine = make_engine(url)
    with read_session(engine) as session:
        ann, ben = get_user(session, "ann"), get_user(session, "ben")
    engine.dispose()
    assert ann is not None and ann.role == "approver" and verify_login(ann, "ann's password")[0]
    assert ben is not None and ben.role == "viewer" and verify_login(ben, "ben's password")[0]
