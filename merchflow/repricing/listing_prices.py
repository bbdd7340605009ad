"""Acting on an approved price change of one marketplace listing (proposal.current carries `account_id`).

The approval records the price as the listing's `target_price` and appends the pricing history; the marketplace
push is separate (`reprice-publish` per account, or the nightly run itself for what it auto-approved), so a push
that fails is retried without re-deciding anything. The premise is the listing's live price the proposal saw.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.decisions import as_decimal
from merchflow.db.models import MarketplaceListing, PricingHistory, Product
from merchflow.db.types import utcnow
from merchflow.decisions.payloads import ExecuteInput
from merchflow.repricing.publish import mark_approved

PUBLISH_WORKFLOW = "reprice-publish"
_P = Product.__table__  # type: ignore[attr-defined]
AUTO_APPROVER = "auto"  # pricing history's approved_by for decisions the autonomy policy approved


def publish_workflow_id(account_id: int) -> str:
    return f"reprice-publish-{account_id}"


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
    from merchflow.decisions.actions import ActionFailed

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
    from merchflow.decisions.actions import ActionFailed

    listing = _listing(session, req)
    new_price = as_decimal(req.proposal.proposed.get("price"))
    if listing is None or new_price is None or new_price <= 0:
        raise ActionFailed(f"cannot set price {req.proposal.proposed.get('price')!r}")
    old_price = live_price(session, listing)
    listing.target_price = new_price
    session.add(listing)
    mark_approved(session, decision_id=req.decision_id)
    session.add(
        PricingHistory(
            sku=listing.sku,
            account_id=listing.account_id,
            old_price=old_price,
            new_price=new_price,
            reason=(req.proposal.reasoning or None) and req.proposal.reasoning[:2000],
            confidence=req.proposal.confidence,
            approved_by=approver_label(req.approver),
            decision_id=req.decision_id,
            created_at=utcnow(),
        )
    )
    return {
        "sku": listing.sku,
        "account_id": listing.account_id,
        "old_price": None if old_price is None else str(old_price),
        "new_price": str(new_price),
        "follow_up": publish_follow_up(listing.account_id),
    }
