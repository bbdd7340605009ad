"""Approved prices waiting to go live (listings whose `target_price` is set), and recording what the marketplace did.

A target price stays on the listing until the marketplace applied it (then it becomes the listing's `price`) or
refused it for good (then it is dropped and the reason kept in `sync_error`). Updates are guarded by the value
sent, so a newer approval that arrived during the push is never cleared by the older push's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from activities.repricing.tables import RepriceProposal
from merchflow.db.bulk import execute_many
from merchflow.db.models import MarketplaceListing, Product
from merchflow.db.types import utcnow

_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
_R = RepriceProposal.__table__  # type: ignore[attr-defined]
# proposals approved (by the policy or a person) whose push is due; IN (...) cannot be used with executemany
_WAITING = sa.or_(_R.c.status == "auto_approved", _R.c.status == "approved")


@dataclass(frozen=True)
class Target:
    sku: str
    price: Decimal
    currency: str
    external_id: str | None
    external_variant_id: str | None


def pending_targets(
    session: Session, *, account_id: int, after_sku: str, through_sku: str | None, limit: int
) -> list[Target]:
    q = (
        sa.select(_L.c.sku, _L.c.target_price, _P.c.currency, _L.c.external_id, _L.c.external_variant_id)
        .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
        .where(_L.c.account_id == account_id, _L.c.target_price.is_not(None), _L.c.sku > after_sku)
        .where(_L.c.status != "ended", _L.c.price_automation.is_(True))  # excluded listings: never pushed
        .order_by(_L.c.sku)
        .limit(limit)
    )
    if through_sku is not None:
        q = q.where(_L.c.sku <= through_sku)
    return [
        Target(r.sku, Decimal(str(r.target_price)).quantize(Decimal("0.01")), r.currency or "USD", r.external_id,
               r.external_variant_id)
        for r in session.execute(q)
    ]  # fmt: skip


def record_applied(session: Session, *, account_id: int, applied: Sequence[Target]) -> None:
    if not applied:
        return
    now = utcnow()
    params = [{"b_sku": t.sku, "b_price": t.price} for t in applied]
    execute_many(
        session,
        sa.update(_L)
        .where(_L.c.account_id == account_id, _L.c.sku == sa.bindparam("b_sku"))
        .where(_L.c.target_price == sa.bindparam("b_price"))
        .values(price=sa.bindparam("b_price"), target_price=None, last_synced_at=now, sync_error=None),
        params,
    )
    execute_many(
        session,
        sa.update(_R)
        .where(_R.c.account_id == account_id, _R.c.sku == sa.bindparam("b_sku"))
        .where(_WAITING)  # not by price: an edited approval pushes another price
        .values(status="pushed"),
        [{"b_sku": t.sku} for t in applied],
    )


def record_rejected(session: Session, *, account_id: int, rejected: Sequence[tuple[Target, str]]) -> None:
    """The marketplace refused these for a reason retrying will not fix: the target is dropped, the reason kept."""
    if not rejected:
        return
    params = [{"b_sku": t.sku, "b_price": t.price, "b_msg": msg[:2000]} for t, msg in rejected]
    execute_many(
        session,
        sa.update(_L)
        .where(_L.c.account_id == account_id, _L.c.sku == sa.bindparam("b_sku"))
        .where(_L.c.target_price == sa.bindparam("b_price"))
        .values(target_price=None, sync_error=sa.bindparam("b_msg")),
        params,
    )
    execute_many(
        session,
        sa.update(_R)
        .where(_R.c.account_id == account_id, _R.c.sku == sa.bindparam("b_sku"))
        .where(_WAITING)
        .values(status="failed"),
        [{"b_sku": t.sku} for t, _ in rejected],
    )


def mark_approved(session: Session, *, decision_id: str) -> None:
    """A human approved the proposal's decision: its proposal now waits for the push like an auto-approved one."""
    session.execute(
        sa.update(_R)
        .where(_R.c.decision_id == decision_id, _R.c.status == "pending")
        .values(status="approved")
    )
