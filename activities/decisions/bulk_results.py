"""Results of bulk approvals from the approver pages, stored so the page that shows them is a plain GET."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from activities.decisions.tables import DecisionBulkResult

KEEP = timedelta(days=7)


def save_bulk_result(session: Session, *, actor: str, items: Sequence[dict[str, Any]], now: datetime) -> str:
    """Stores the items in the order given; returns the result's id. Results older than a week are pruned."""
    session.exec(sa.delete(DecisionBulkResult).where(col(DecisionBulkResult.created_at) < now - KEEP))  # type: ignore[call-overload]
    result_id = secrets.token_urlsafe(16)
    session.add(DecisionBulkResult(id=result_id, actor=actor, created_at=now, items=list(items)))
    return result_id


def get_bulk_result(session: Session, result_id: str, *, actor: str) -> DecisionBulkResult | None:
    """The result, only for the person who made it (another user gets None, as for an unknown id)."""
    row = session.get(DecisionBulkResult, result_id[:32])
    return row if row is not None and row.actor == actor else None
