"""Helpers of the accounts tests: API tokens, following a connect flow over plain HTTP, reading accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from merchflow.db.engine import read_session
from merchflow.db.models import MarketplaceAccount, NotificationOutbox
from tests.conftest import make_token
from tests.stock.harness import Stack


def tokens(st: Stack) -> dict[str, str]:
    return {role: make_token(st.engine, role) for role in ("admin", "operator", "viewer")}


def account_row(engine: sa.Engine, account_id: int) -> MarketplaceAccount:
    with read_session(engine) as s:
        row = s.get(MarketplaceAccount, account_id)
        assert row is not None
        return row


def notices(engine: sa.Engine, event: str) -> list[NotificationOutbox]:
    with read_session(engine) as s:
        return list(s.exec(sa.select(NotificationOutbox).where(NotificationOutbox.event == event)).scalars())  # type: ignore[call-overload]


async def consent(http: httpx.AsyncClient, consent_url: str, decision: str = "allow") -> httpx.Response:
    """What a seller's browser does on the marketplace's consent page: open it, press a button. Returns the
    marketplace's redirect (not followed), whose Location is the engine's callback."""
    page = await http.get(consent_url)
    assert page.status_code == 200, page.text
    action = page.text.split('action="', 1)[1].split('"', 1)[0]
    fields = dict(
        (part.split('name="', 1)[1].split('"', 1)[0], part.split('value="', 1)[1].split('"', 1)[0])
        for part in page.text.split('<input type="hidden" ')[1:]
    )
    import html

    fields = {k: html.unescape(v) for k, v in fields.items()}
    base = f"{urlsplit(consent_url).scheme}://{urlsplit(consent_url).netloc}"
    return await http.post(base + action, data={**fields, "decision": decision})


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def json_of(r: httpx.Response) -> Any:
    assert r.status_code < 400, f"{r.status_code}: {r.text}"
    return r.json()
