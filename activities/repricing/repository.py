"""Reads of repricing runs and their proposals (keyword-only, session first), for the API."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from activities.decisions.repository import statuses_of
from activities.repricing.tables import RepriceProposal, RepriceRun


def get_run(session: Session, run_id: str) -> RepriceRun | None:
    return session.get(RepriceRun, run_id)


def proposal_counts(session: Session, *, run_id: str) -> dict[str, int]:
    return dict(
        session.execute(
            sa.select(RepriceProposal.status, sa.func.count())  # type: ignore[call-overload]
            .where(RepriceProposal.run_id == run_id)
            .group_by(RepriceProposal.status)
        ).all()
    )


def proposal_page(
    session: Session, *, run_id: str, status: str | None, account_id: int | None, offset: int, limit: int
) -> tuple[int, list[RepriceProposal], dict[str, str]]:
    """(total matching, one page in id order, the page's decisions' statuses by decision id)."""
    q = select(RepriceProposal).where(RepriceProposal.run_id == run_id)
    if status:
        q = q.where(RepriceProposal.status == status)
    if account_id is not None:
        q = q.where(RepriceProposal.account_id == account_id)
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    rows = list(session.exec(q.order_by(col(RepriceProposal.id)).offset(offset).limit(limit)).all())
    decided = statuses_of(session, [r.decision_id for r in rows if r.decision_id])
    return total, rows, decided
