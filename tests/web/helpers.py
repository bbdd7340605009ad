"""Helpers for the web page tests: users with known passwords, decision rows, form tokens, logging in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from activities.decisions.tables import Decision
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.users import create_user

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(engine: sa.Engine, *names_roles: tuple[str, str]) -> None:
    with session_scope(engine) as session:
        for name, role in names_roles:
            create_user(session, username=name, password=PASSWORD, role=role)


def proposal(
    *,
    decision_type: str,
    subject: str,
    marketplace: str | None,
    confidence: float,
    current: dict[str, Any],
    proposed: dict[str, Any],
) -> dict[str, Any]:
    return {
        "decision_type": decision_type,
        "subject": subject,
        "marketplace": marketplace,
        "current": current,
        "proposed": proposed,
        "confidence": confidence,
        "reasoning": f"Competitors undercut {subject} by 7% for three days.",
        "factors": [
            {"name": "competitor_min", "value": "18.99", "weight": 0.6, "detail": "lowest of 4 offers"},
            {"name": "margin_after", "value": "21%", "weight": 0.4},
        ],
        "evidence": [
            {"kind": "competitor_price", "label": "ShopA", "value": "18.99", "url": "https://a.example/p"},
            {"kind": "competitor_price", "label": "ShopB", "value": "19.49"},
            {"kind": "image", "label": "listing photo", "image_url": "https://img.example/p.jpg"},
            {"kind": "note", "label": "Buy box", "value": "lost since Monday"},
        ],
    }


def add_decision(
    engine: sa.Engine,
    decision_id: str,
    *,
    decision_type: str = "price_change",
    subject: str | None = None,
    marketplace: str | None = "amazon",
    confidence: float = 0.7,
    current: dict[str, Any] | None = None,
    proposed: dict[str, Any] | None = None,
    status: str = "pending",
    version: int = 1,
    age: timedelta = timedelta(0),
    workflow_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """A decision row as the decision workflow records it (for pages that only read); `extra` is merged into
    the proposal (e.g. its expected effect or other evidence)."""
    subject = subject or f"SKU-{decision_id}"
    current = {"price": "20.00"} if current is None else current
    proposed = {"price": "18.50"} if proposed is None else proposed
    created: datetime = utcnow() - age
    with session_scope(engine) as session:
        session.add(
            Decision(
                id=decision_id,
                decision_type=decision_type,
                subject=subject,
                marketplace=marketplace,
                proposal={
                    **proposal(
                        decision_type=decision_type,
                        subject=subject,
                        marketplace=marketplace,
                        confidence=confidence,
                        current=current,
                        proposed=proposed,
                    ),
                    **(extra or {}),
                },
                confidence=confidence,
                status=status,
                version=version,
                workflow_id=workflow_id,
                created_at=created,
                updated_at=created,
            )
        )


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "page has no CSRF field"
    return m.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    )


async def form_token(client: httpx.AsyncClient, path: str = "/approvals") -> str:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)
