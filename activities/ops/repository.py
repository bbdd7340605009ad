"""SQL of the operators' tooling: account health, alert states, the notification outbox's backlog, uploads."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from activities.catalog.tables import CatalogImport
from activities.decisions.tables import NotificationOutbox
from activities.ops.tables import AccountHealth, OpsAlert
from domain.ops.alerts import AccountHealthFact, AlertState


def account_health(s: Session) -> list[AccountHealthFact]:
    return [
        AccountHealthFact(
            marketplace=r.marketplace,
            account=r.account,
            failing_since=r.failing_since,
            last_failure_at=r.last_failure_at,
            last_success_at=r.last_success_at,
            last_error=r.last_error,
        )
        for r in s.exec(select(AccountHealth).where(AccountHealth.failing_since.is_not(None))).all()  # type: ignore[union-attr]
    ]


def alert_states(s: Session) -> dict[str, AlertState]:
    return {
        r.key: AlertState(key=r.key, kind=r.kind, status=r.status, episode=r.episode, summary=r.summary)
        for r in s.exec(select(OpsAlert)).all()
    }


def save_alert_states(s: Session, states: list[AlertState], *, now: datetime) -> None:
    for st in states:
        row = s.get(OpsAlert, st.key) or OpsAlert(key=st.key, kind=st.kind)
        if row.status != st.status:
            row.since = now
        row.kind, row.status, row.episode, row.summary, row.updated_at = (
            st.kind,
            st.status,
            st.episode,
            st.summary[:500],
            now,
        )
        s.add(row)


def outbox_backlog(s: Session, *, older_than: datetime) -> int:
    q = (
        select(sa.func.count())
        .select_from(NotificationOutbox)
        .where(NotificationOutbox.status == "pending", NotificationOutbox.created_at < older_than)
    )
    return int(s.exec(q).one())  # type: ignore[call-overload]


def stale_pending_notices(s: Session, *, older_than: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(outbox id, attempts) of notices still pending after their workflow's own retries ran out."""
    rows = s.exec(
        select(NotificationOutbox.id, NotificationOutbox.attempts)
        .where(NotificationOutbox.status == "pending", NotificationOutbox.created_at < older_than)
        .order_by(NotificationOutbox.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return [(int(i or 0), int(a)) for i, a in rows]


def upload_keys_in_use(s: Session, *, finished_before: datetime) -> set[str]:
    """Import ids whose upload must stay: not finished, or finished within the retention period."""
    rows = s.exec(
        select(CatalogImport.id).where(
            sa.or_(CatalogImport.finished_at.is_(None), CatalogImport.finished_at >= finished_before)  # type: ignore[union-attr]
        )
    ).all()
    return set(rows)
