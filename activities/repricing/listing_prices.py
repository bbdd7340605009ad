"""Acting on an approved price change of one marketplace listing (proposal.current carries `account_id`).

The approval records the price as the listing's `target_price` and appends the pricing history; the marketplace
push is separate (`reprice-publish` per account, or the nightly run itself for what it auto-approved), so a push
that fails is retried without re-deciding anything. The premise is the listing's live price the proposal saw.
`apply_approved_prices` is the one place an approved listing price takes effect, for one decision (the decision
executor) or thousands (a run's auto-approved batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from activities.decisions.actions import ActionFailed
from activities.repricing.publish import mark_approved
from activities.repricing.tables import PricingHistory
from domain.decisions.rules import as_decimal
from merchflow.db.bulk import execute_many
from merchflow.db.models import MarketplaceListing, Product
from merchflow.db.types import utcnow
from workflows.decisions.contract import ExecuteInput
from workflows.repricing.contract import PUBLISH_WORKFLOW, publish_workflow_id

_P = Product.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_H = PricingHistory.__table__  # type: ignore[attr-defined]
AUTO_APPROVER = "auto"  # pricing history's approved_by for decisions the autonomy policy approved


@dataclass(frozen=True)
class ApprovedPrice:
    sku: str
    new_price: Decimal
    old_price: Decimal | None  # the live price the premise check found
    decision_id: str
    reason: str | None
    confidence: float | None


def publish_follow_up(account_id: int) -> dict[str, Any]:
    """Asks the decision executor to start (or nudge) the account's price publish once the page commits."""
    return {
        "workflow": PUBLISH_WORKFLOW,
        "workflow_id": publish_workflow_id(account_id),
        "arg": {"account_id": account_id},
    }


def is_listing_scope(req: ExecuteInput) -> bool:
    return req.proposal.current.get("account_id") is not None


def approver_label(approver: str | None) -> str:
    return AUTO_APPROVER if approver in (None, "policy") else approver


def apply_approved_prices(
    session: Session, *, account_id: int, prices: Sequence[ApprovedPrice], approver: str | None, now: datetime
) -> dict[str, dict[str, Any]]:
    """Set each listing's target price and append the pricing history; returns each SKU's action result (what the
    decision records as done, with the follow-up that publishes the account's prices)."""
    if not prices:
        return {}
    execute_many(
        session,
        sa.update(_L)
        .where(_L.c.account_id == account_id, _L.c.sku == sa.bindparam("b_sku"))
        .values(target_price=sa.bindparam("b_price")),
        [{"b_sku": p.sku, "b_price": p.new_price} for p in prices],
    )
    execute_many(
        session,
        sa.insert(_H),
        [
            {"sku": p.sku, "account_id": account_id, "old_price": p.old_price, "new_price": p.new_price,
             "reason": (p.reason or None) and p.reason[:2000], "confidence": p.confidence,
             "approved_by": approver_label(approver), "decision_id": p.decision_id, "created_at": now}
            for p in prices
        ],
    )  # fmt: skip
    follow = publish_follow_up(account_id)
    return {
        p.sku: {"sku": p.sku, "account_id": account_id, "old_price": None if p.old_price is None else str(p.old_price),
                "new_price": str(p.new_price), "follow_up": follow}
        for p in prices
    }  # fmt: skip


def _listing(session: Session, req: ExecuteInput, *, lock: bool = False) -> MarketplaceListing | None:
    q = select(MarketplaceListing).where(
        MarketplaceListing.account_id == int(req.proposal.current["account_id"]),
        MarketplaceListing.sku == req.proposal.subject,
    )
    return session.exec(q.with_for_update() if lock else q).first()


def live_price(session: Session, listing: MarketplaceListing) -> Decimal | None:
    """What a listing sells at: its last published price, else the catalog price it was listed with."""
    if listing.price is not None:
        return listing.price
    price: Decimal | None = session.execute(sa.select(_P.c.price).where(_P.c.sku == listing.sku)).scalar()
    return price


def lock(session: Session, req: ExecuteInput) -> None:
    _listing(session, req, lock=True)


def changed_premise(session: Session, req: ExecuteInput) -> dict[str, Any] | None:
    listing = _listing(session, req)
    if listing is None or listing.status == "ended":
        raise ActionFailed(
            f"listing {req.proposal.subject} on account {req.proposal.current['account_id']} is gone"
        )
    now = live_price(session, listing)
    assumed = as_decimal(req.proposal.current.get("price"))
    if assumed is None or now is None or now != assumed:
        return {**req.proposal.current, "price": None if now is None else str(now)}
    return None


def act(session: Session, req: ExecuteInput) -> dict[str, Any]:
    listing = _listing(session, req)
    new_price = as_decimal(req.proposal.proposed.get("price"))
    if listing is None or new_price is None or new_price <= 0:
        raise ActionFailed(f"cannot set price {req.proposal.proposed.get('price')!r}")
    price = ApprovedPrice(
        sku=listing.sku, new_price=new_price, old_price=live_price(session, listing), decision_id=req.decision_id,
        reason=req.proposal.reasoning, confidence=req.proposal.confidence,
    )  # fmt: skip
    mark_approved(session, decision_id=req.decision_id)
    return apply_approved_prices(
        session, account_id=listing.account_id, prices=[price], approver=req.approver, now=utcnow()
    )[listing.sku]
