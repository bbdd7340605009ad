"""The `purchase` decision's action: it really buys, as a saga with its compensations.

1. checkout at the source (the item is held for us; key `<action key>:checkout`);
2. authorise our card for price + shipping (`:authorise`) - declined: cancel the order, the decision fails;
3. confirm the order with that payment (`:confirm`) - refused (sold meanwhile, seller cancelled): void the
   authorisation and cancel the order, the decision fails;
4. capture the payment (`:capture`) - failed: cancel the order, the decision fails.
Every step carries a key derived from the decision's action key, which the source and the payment provider
honour, so a step repeated after a crash (a worker killed between the payment and the confirmation) returns its
first answer: one order, one charge. A transient error (5xx, timeout) fails the attempt and the decision executor
retries it from the top, replaying the finished steps by key.

The premise re-checked under the budget lock before anything moves: the deal is still awaiting this purchase, its
spend reservation still holds and covers the amount, and the price is not above the computed max price.

Also here: the `arbitrage_offer` action (an offer above the approval threshold, sent once a human approved it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from activities.arbitrage import repository as repo
from activities.arbitrage.deal_steps import purchase_amount
from activities.arbitrage.services import services
from activities.arbitrage.tables import SpendReservation
from activities.decisions.actions import ActionFailed
from connectors.arbitrage_sources.port import Unavailable
from connectors.payments.port import PaymentDeclined
from domain.arbitrage.deals import AWAITING_APPROVAL, NEGOTIATING, PURCHASED
from domain.arbitrage.negotiation import Move, message_for
from domain.decisions.rules import as_decimal
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput


def _deal_id(req: ExecuteInput) -> str:
    deal_id = req.proposal.proposed.get("deal_id") or req.proposal.current.get("deal_id")
    if not isinstance(deal_id, str) or not deal_id:
        raise ActionFailed("not an arbitrage proposal: it names no deal")
    return deal_id


class PurchaseHandler:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def lock(self, session: Session, req: ExecuteInput) -> None:
        repo.lock_budget(session)
        repo.get_deal(session, _deal_id(req), lock=True)

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        deal = repo.get_deal(session, _deal_id(req))
        if deal is None:
            raise ActionFailed(f"deal {_deal_id(req)} does not exist")
        price = as_decimal(req.proposal.proposed.get("price"))
        if price is None or price <= 0:
            raise ActionFailed(f"no purchase price in the proposal ({req.proposal.proposed.get('price')!r})")
        if deal.max_price is not None and price > deal.max_price:
            raise ActionFailed(f"price {price} is above the computed max price {deal.max_price}: not bought")
        if deal.state != AWAITING_APPROVAL:
            raise ActionFailed(f"deal is {deal.state}, not awaiting this purchase")
        held = session.get(SpendReservation, deal.id)
        amount = purchase_amount(self.deps.settings, price, deal.shipping)
        if held is None or held.status != "held" or amount > held.amount:
            # the money is no longer set aside (released) or an edit raised the amount: a human must look again
            return {**req.proposal.current, "reserved": str(held.amount) if held and held.status == "held" else "0",
                    "needed": str(amount)}  # fmt: skip
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        deal = repo.get_deal(session, _deal_id(req))
        assert deal is not None
        svc = services(self.deps)
        source = svc.source(deal.source)
        if not getattr(source, "can_checkout", False):
            raise ActionFailed(f"{deal.source} has no checkout: buy it by hand and record it")
        payments, key = svc.payments, req.idempotency_key
        price = as_decimal(req.proposal.proposed.get("price")) or Decimal(0)
        amount = purchase_amount(self.deps.settings, price, deal.shipping)
        try:
            order = source.checkout(deal.source_id, amount=price, idempotency_key=f"{key}:checkout")
        except Unavailable as exc:
            raise ActionFailed(f"checkout refused: {exc.message}") from exc
        meta = {"deal_id": deal.id, "order_id": order.order_id, "payment_method": svc.cfg.payment_method}
        try:
            payment = payments.authorise(amount=amount, currency=deal.currency, idempotency_key=f"{key}:authorise",
                                         metadata=meta, description=f"arbitrage {deal.id}: {deal.title}")  # fmt: skip
        except PaymentDeclined as exc:
            source.cancel(order.order_id, idempotency_key=f"{key}:cancel")
            raise ActionFailed(
                f"payment declined ({exc.code or exc.message}); order {order.order_id} cancelled"
            ) from exc
        try:
            source.confirm(order.order_id, payment_reference=payment.id, idempotency_key=f"{key}:confirm")
        except Unavailable as exc:
            payments.cancel(payment.id, idempotency_key=f"{key}:void")
            source.cancel(order.order_id, idempotency_key=f"{key}:cancel")
            raise ActionFailed(
                f"order not confirmed ({exc.message}); authorisation {payment.id} voided, order cancelled"
            ) from exc
        try:
            payment = payments.capture(payment.id, idempotency_key=f"{key}:capture")
        except PaymentDeclined as exc:
            source.cancel(order.order_id, idempotency_key=f"{key}:cancel")
            raise ActionFailed(f"payment not captured ({exc.code or exc.message}); order cancelled") from exc
        repo.transition(session, deal_id=deal.id, state=PURCHASED, reason=f"bought for {amount} {deal.currency}",
                        actor=req.approver or "policy", fields={"agreed_price": price, "purchase_amount": amount,
                        "order_id": order.order_id, "payment_id": payment.id, "decision_id": req.decision_id})  # fmt: skip
        repo.set_spend(session, deal_id=deal.id, status="spent")
        return {"deal_id": deal.id, "order_id": order.order_id, "payment_id": payment.id,
                "charged": str(payment.captured), "currency": deal.currency}  # fmt: skip


class OfferHandler:
    """`arbitrage_offer`: send the approved offer to the seller through the source's messaging."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def lock(self, session: Session, req: ExecuteInput) -> None:
        repo.get_deal(session, _deal_id(req), lock=True)

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        deal = repo.get_deal(session, _deal_id(req))
        if deal is None or deal.state != NEGOTIATING:
            raise ActionFailed(f"deal {_deal_id(req)} is not negotiating")
        amount = as_decimal(req.proposal.proposed.get("offer"))
        if amount is None or amount <= 0 or (deal.max_price is not None and amount > deal.max_price):
            raise ActionFailed(f"offer {amount} is not between 0 and the max price {deal.max_price}")
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        deal = repo.get_deal(session, _deal_id(req))
        assert deal is not None
        amount = as_decimal(req.proposal.proposed.get("offer")) or Decimal(0)
        round_no = int(req.proposal.proposed.get("round") or 1)
        text = message_for(
            Move(kind="offer", amount=amount, reason=""), opening=round_no == 1, currency=deal.currency
        )
        source = services(self.deps).source(deal.source)
        external = source.post_message(deal.source_id, text, amount)
        repo.record_message(
            session, deal_id=deal.id, direction="out", external_id=f"r{round_no}", text=text, amount=amount
        )
        return {"deal_id": deal.id, "offer": str(amount), "message_id": external}
