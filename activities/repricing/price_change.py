"""The `price_change` decision action, registered with the decision executor by the repricing feature.

Two scopes: a proposal for one marketplace listing (`current.account_id`, from repricing runs) records the
listing's target price for the account's price publish (activities.repricing.listing_prices); a proposal for the
product as a whole sets the catalog price. Either way the premise is the price the proposal saw.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from activities.decisions.actions import ActionFailed
from activities.repricing import listing_prices
from activities.repricing.tables import PricingHistory
from domain.decisions.rules import as_decimal
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput


class PriceChangeHandler:
    def __init__(self, deps: Deps | None = None) -> None:
        self.deps = deps

    def _product(self, session: Session, sku: str, *, lock: bool = False) -> Product | None:
        # lock() loads the row once per unit of work; the premise check and the action reuse it
        cache: dict[str, Product | None] = session.info.setdefault("decision_products", {})
        if lock or sku not in cache:
            query = select(Product).where(Product.sku == sku)
            cache[sku] = session.exec(query.with_for_update() if lock else query).first()
        return cache[sku]

    def lock(self, session: Session, req: ExecuteInput) -> None:
        if listing_prices.is_listing_scope(req):
            return listing_prices.lock(session, req)
        self._product(session, req.proposal.subject, lock=True)

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        if listing_prices.is_listing_scope(req):
            return listing_prices.changed_premise(session, req)
        product = self._product(session, req.proposal.subject)
        if product is None:
            raise ActionFailed(f"product {req.proposal.subject} no longer exists")
        assumed = as_decimal(req.proposal.current.get("price"))
        if assumed is None or product.price is None or product.price != assumed:
            return {**req.proposal.current, "price": None if product.price is None else str(product.price)}
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        if listing_prices.is_listing_scope(req):
            return listing_prices.act(session, req)
        product = self._product(session, req.proposal.subject)
        new_price = as_decimal(req.proposal.proposed.get("price"))
        if product is None or new_price is None or new_price <= 0:
            raise ActionFailed(f"cannot set price {req.proposal.proposed.get('price')!r}")
        old_price = product.price
        product.price, product.updated_at = new_price, utcnow()
        session.add(product)
        session.add(
            PricingHistory(
                sku=product.sku,
                old_price=old_price,
                new_price=new_price,
                reason=(req.proposal.reasoning or None) and req.proposal.reasoning[:2000],
                confidence=req.proposal.confidence,
                approved_by=req.approver,
                decision_id=req.decision_id,
            )
        )
        return {"sku": product.sku, "old_price": str(old_price), "new_price": str(new_price)}
