"""Web sessions are server-side: logging out, a password change or a deactivation end them at once, even for a
copy of the cookie; the cookie carries Max-Age; an expired row is refused whatever the cookie says."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.web.session import COOKIE, SESSION_MAX_AGE
from merchflow.db.engine import read_session, session_scope
from merchflow.db.models import WebSession
from merchflow.db.types import utcnow
from merchflow.users import set_active, set_password
from tests.web.helpers import PASSWORD, add_users, csrf_of, form_token, login


@pytest.fixture
async def web(api_client: httpx.AsyncClient) -> httpx.AsyncClient:
    add_users(api_client.app.state.engine, ("root", "admin"), ("alice", "approver"))  # type: ignore[attr-defined]
    return api_client


@pytest.fixture
async def thief(web: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser that holds nothing but a copy of the victim's cookie."""
    transport = httpx.ASGITransport(app=web.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


def engine_of(client: httpx.AsyncClient) -> sa.Engine:
    return client.app.state.engine  # type: ignore[attr-defined, no-any-return]


def copy_cookie(src: httpx.AsyncClient, dst: httpx.AsyncClient) -> None:
    dst.cookies.set(COOKIE, src.cookies[COOKIE])


async def logged_in(client: httpx.AsyncClient) -> bool:
    r = await client.get("/approvals")
    assert r.status_code in (200, 303), r.text
    return r.status_code == 200


async def test_the_cookie_carries_max_age_and_only_a_digest_is_stored(web: httpx.AsyncClient) -> None:
    r = await login(web, "alice")
    cookie = r.headers["set-cookie"]
    assert re.search(rf"Max-Age={SESSION_MAX_AGE}\b", cookie) and SESSION_MAX_AGE == 12 * 3600
    with read_session(engine_of(web)) as session:
        rows = session.exec(select(WebSession)).all()
    assert len(rows) == 1 and len(rows[0].id) == 64
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=12)
    assert rows[0].id not in web.cookies[COOKIE]  # the cookie holds the secret, the table its digest


async def test_logout_ends_the_session_for_a_copied_cookie(
    web: httpx.AsyncClient, thief: httpx.AsyncClient
) -> None:
    await login(web, "alice")
    copy_cookie(web, thief)
    assert await logged_in(thief)
    r = await web.post("/logout", data={"csrf_token": await form_token(web)})
    assert r.status_code == 303
    assert not await logged_in(thief)  # the copy stopped working at once
    assert not await logged_in(web)
    with read_session(engine_of(web)) as session:
        assert session.exec(select(WebSession)).all() == []


async def test_logging_in_again_ends_the_browser_s_previous_session(
    web: httpx.AsyncClient, thief: httpx.AsyncClient
) -> None:
    await login(web, "alice")
    copy_cookie(web, thief)
    # same browser, new log-in (a form posted from a page opened before)
    r = await web.post(
        "/login", data={"username": "root", "password": PASSWORD, "csrf_token": await form_token(web)}
    )
    assert r.status_code == 303
    assert not await logged_in(thief)
    assert await logged_in(web)


async def test_password_change_ends_every_session_of_the_user(
    web: httpx.AsyncClient, thief: httpx.AsyncClient
) -> None:
    await login(web, "alice")
    copy_cookie(web, thief)
    transport = httpx.ASGITransport(app=web.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as root:
        await login(root, "root")
        with session_scope(engine_of(web)) as session:
            set_password(session, username="alice", password="a brand new password")
        assert not await logged_in(web) and not await logged_in(thief)
        assert await logged_in(root)  # other users keep theirs
        assert (await login(web, "alice", "a brand new password")).status_code == 303
        assert await logged_in(web)


async def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(
    web: httpx.AsyncClient, thief: httpx.AsyncClient
) -> None:
    await login(web, "alice")
    copy_cookie(web, thief)
    with session_scope(engine_of(web)) as session:
        set_active(session, username="alice", active=False)
    with session_scope(engine_of(web)) as session:
        set_active(session, username="alice", active=True)
    assert not await logged_in(thief) and not await logged_in(web)


async def test_an_expired_session_row_is_refused_whatever_the_cookie_says(web: httpx.AsyncClient) -> None:
    await login(web, "alice")
    assert await logged_in(web)
    with session_scope(engine_of(web)) as session:
        session.exec(sa.update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))  # type: ignore[call-overload]
    assert not await logged_in(web)


async def test_a_forged_or_unknown_session_secret_is_anonymous(web: httpx.AsyncClient) -> None:
    page = await web.get("/login")
    csrf_of(page.text)
    web.cookies.set(COOKIE, "eyJjIjoiYSIsInMiOiJ4In0.forged.signature")
    assert not await logged_in(web)


def test_the_migration_creates_the_session_table_as_the_model_describes(db_url: str) -> None:
    from merchflow.db.all_tables import metadata
    from merchflow.db.migrate import downgrade, upgrade
    from tests.decisions.test_schema import _shape

    eng = sa.create_engine(db_url)
    try:
        cols, indexes, _ = _shape(sa.inspect(eng), "web_session")
        table = metadata.tables["web_session"]
        assert cols == {(c.name, bool(c.nullable)) for c in table.columns}
        assert (
            indexes
            == {i.name for i in table.indexes}
            == {"ix_web_session_user_id", "ix_web_session_expires_at"}
        )
        assert [fk["referred_table"] for fk in sa.inspect(eng).get_foreign_keys("web_session")] == [
            "app_user"
        ]
        downgrade(db_url, "0006")
        assert "web_session" not in sa.inspect(eng).get_table_names()
        upgrade(db_url)
        assert "web_session" in sa.inspect(eng).get_table_names()
    finally:
        eng.dispose()
