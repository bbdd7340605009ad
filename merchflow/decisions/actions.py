"""Acting on an approved decision: pluggable handlers per decision type, run under an idempotency key.

Every handler first locks and re-reads the facts the proposal assumed (its premise). If they moved, nothing
acts and the caller sends the decision back to a human with the new facts. The action and its idempotency
row commit in one transaction, so a duplicated or retried approval finds the row and does not act twice.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session, select

from domain.decisions import as_decimal
from merchflow.db.decisions import DecisionAction
from merchflow.db.models import PricingHistory, Product
from merchflow.db.types import utcnow
from merchflow.decisions.payloads import ExecuteInput, ExecuteResult
from merchflow.repricing import listing_prices


class ActionFailed(Exception):
    """A business reason the action cannot be done (not retried): the decision ends as failed."""


class ActionHandler(Protocol):
    def lock(self, session: Session, req: ExecuteInput) -> None:
        """Take the locks the premise check and the action need (FOR UPDATE on PostgreSQL)."""

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        """None when the facts are still what the proposal assumed, else the facts as they are now."""

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        """Do it; return what was done (stored with the idempotency key and shown in the audit)."""


class RecordOnlyHandler:
    """For decision types whose action another feature performs (marketplace pushes...): the approval is
    recorded and the parent process reads the child workflow's result to act."""

    def lock(self, session: Session, req: ExecuteInput) -> None:
        return None

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        return {"recorded": True, "approved_value": req.proposal.proposed}


class PriceChangeHandler:
    """Sets Product.price and appends to the pricing history. Premise: the price is still `current.price`.
    A proposal for one marketplace listing (`current.account_id`, from repricing) records the listing's target
    price instead and asks for the account's price publish (merchflow.repricing.listing_prices)."""

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


def execute(session: Session, req: ExecuteInput, handler: ActionHandler) -> ExecuteResult:
    """Lock, then look for the idempotency row (so a concurrent duplicate that waited on the lock sees the
    first one's row), re-check the premise, act, and record the key — all in the caller's transaction."""
    handler.lock(session, req)
    done = session.get(DecisionAction, req.idempotency_key)
    if done is not None:
        return ExecuteResult(outcome="already_executed", result=done.result, message="executed before")
    try:
        changed = handler.changed_premise(session, req)
        if changed is not None:
            return ExecuteResult(
                outcome="premise_changed", current=changed, message="facts changed since the proposal"
            )
        result = handler.act(session, req)
    except ActionFailed as exc:
        return ExecuteResult(outcome="failed", message=str(exc))
    session.add(
        DecisionAction(
            idempotency_key=req.idempotency_key,
            decision_id=req.decision_id,
            decision_type=req.proposal.decision_type,
            result=result,
        )
    )
    # no flush here: the caller's commit (or savepoint release) writes it; a duplicate key fails there
    return ExecuteResult(outcome="executed", result=result, message="done")
