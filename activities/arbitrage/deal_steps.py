"""The deal workflow's bookkeeping steps: its view of the deal, state changes, messages, the spend reservation and
the purchase proposal. Synchronous, each one short unit of work (thread-pool activities)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from activities.arbitrage import repository as repo
from activities.arbitrage.tables import Deal
from domain.arbitrage.fees import money
from domain.arbitrage.limits import spend_day, violations, windows
from domain.arbitrage.negotiation import parse_reply
from domain.arbitrage.profit import landed_cost
from domain.decisions.rules import Evidence, Factor, Proposal
from merchflow.db.engine import session_scope
from merchflow.settings import Settings
from workflows.arbitrage.contract import (
    OFFER_DECISION,
    PURCHASE_DECISION,
    DealTransition,
    DealView,
    ProposalInput,
    ReplyInput,
    ReplyResult,
    ReserveInput,
    ReserveResult,
)


def _deal(session: Any, deal_id: str, *, lock: bool = False) -> Deal:
    deal = repo.get_deal(session, deal_id, lock=lock)
    if deal is None:
        raise LookupError(f"no deal {deal_id}")
    return deal


def view(
    engine: sa.Engine, settings: Settings, deal_id: str, *, can_message: bool, can_checkout: bool
) -> DealView:
    cfg = settings.arbitrage
    with session_scope(engine) as s:
        d = _deal(s, deal_id)
        return DealView(
            deal_id=d.id, title=d.title, source=d.source, source_id=d.source_id, action=d.action,  # type: ignore[arg-type]
            currency=d.currency, asking_price=d.asking_price, shipping=d.shipping, max_price=d.max_price or Decimal(0),
            target_price=d.target_price or d.asking_price, can_message=can_message, can_checkout=can_checkout,
            rules=cfg.rules.negotiation, delivery_timeout_hours=cfg.delivery_timeout_hours,
            sale_check_minutes=cfg.sale_check_minutes, max_hold_days=cfg.max_hold_days,
        )  # fmt: skip


def transition(engine: sa.Engine, t: DealTransition) -> bool:
    with session_scope(engine) as s:
        return repo.transition(
            s, deal_id=t.deal_id, state=t.state, reason=t.reason, actor=t.actor, fields=t.fields
        )


def record_reply(engine: sa.Engine, inp: ReplyInput) -> ReplyResult:
    """Store the seller's message (once) and read it as data: an intent and at most one amount."""
    with session_scope(engine) as s:
        d = _deal(s, inp.deal_id)
        reply = parse_reply(inp.text, asking=d.asking_price)
        new = repo.record_message(s, deal_id=inp.deal_id, direction="in", external_id=inp.external_id,
                                  text=reply.text, amount=reply.amount, intent=reply.intent)  # fmt: skip
    return ReplyResult(intent=reply.intent, amount=reply.amount, new=new)


def purchase_amount(settings: Settings, price: Decimal, shipping: Decimal) -> Decimal:
    """What leaves our account: price and shipping, the sales tax on the purchase and our card fee."""
    costs = settings.arbitrage.rules.costs
    return money(price * (1 + costs.purchase_tax_rate + costs.card_fee_rate) + shipping)


def reserve(engine: sa.Engine, settings: Settings, inp: ReserveInput, *, now: datetime) -> ReserveResult:
    """Check every safety limit and hold the amount, atomically (see repository: the budget lock)."""
    limits = settings.arbitrage.rules.limits
    with session_scope(engine) as s:
        repo.lock_budget(s)
        d = _deal(s, inp.deal_id, lock=True)
        amount = purchase_amount(settings, inp.price, d.shipping)
        landed = landed_cost(inp.price, d.shipping, settings.arbitrage.rules.costs)
        net = (d.predicted_sale_price or Decimal(0)) - (d.predicted_fees or Decimal(0))
        profit = net - landed
        roi = (profit / landed).quantize(Decimal("0.0001")) if landed > 0 else Decimal(0)
        day_start, week_start = windows(now, settings.time_zone)
        exp = repo.exposure(
            s, day=day_start.date(), week_start=week_start.date(), product_key=d.product_key, exclude=d.id
        )
        found = violations(
            limits, exp, amount=amount, units=1, profit=profit, roi=roi, category=d.category, brand=d.brand
        )
        if d.max_price is not None and inp.price > d.max_price:
            found.insert(0, f"price {inp.price} is above the computed max price {d.max_price}")
        if found:
            return ReserveResult(ok=False, amount=amount, violations=found)
        repo.hold(
            s, deal_id=d.id, amount=amount, product_key=d.product_key, day=spend_day(now, settings.time_zone)
        )
        return ReserveResult(ok=True, amount=amount)


def release(engine: sa.Engine, deal_id: str, status: str) -> None:
    with session_scope(engine) as s:
        repo.set_spend(s, deal_id=deal_id, status=status)


def proposal(
    engine: sa.Engine, settings: Settings, inp: ProposalInput, *, kind: str, expires_in: timedelta
) -> Proposal:
    """The decision a human (or the autonomy policy) takes: every number computed by the domain, the evidence of
    where they come from, and the seller's own words kept out (they are untrusted; the deal page shows them)."""
    with session_scope(engine) as s:
        d = _deal(s, inp.deal_id)
        ev = d.evaluation or {}
        quote = ev.get("quote") or {}
        amount = purchase_amount(settings, inp.price, d.shipping)
        landed = landed_cost(inp.price, d.shipping, settings.arbitrage.rules.costs)
        net = (d.predicted_sale_price or Decimal(0)) - (d.predicted_fees or Decimal(0))
        profit = net - landed
    factors = [
        Factor(name="asking_price", value=str(d.asking_price)),
        Factor(name="max_price", value=str(d.max_price)),
        Factor(name="expected_sale_price", value=str(d.predicted_sale_price), detail=d.channel),
        Factor(name="fees_and_shipping_out", value=str(d.predicted_fees), detail=d.fee_version),
        Factor(name="landed_cost", value=str(landed)),
        Factor(name="expected_profit", value=str(profit)),
        Factor(name="days_to_sell", value=d.days_to_sell),
        Factor(name="risk", value=d.risk),
    ]
    evidence = [
        Evidence(kind="link", label=f"{d.source} listing", url=quote.get("url") or None, value=d.title[:200])
    ]
    if quote.get("asin"):
        evidence.append(Evidence(kind="competitor_price", label=f"Amazon buy box ({quote['asin']})",
                                 value=str(quote.get("amazon_price"))))  # fmt: skip
    if quote.get("ebay_sold_median") or quote.get("ebay_active_min"):
        evidence.append(Evidence(kind="competitor_price", label="eBay",
                                 value=str(quote.get("ebay_sold_median") or quote.get("ebay_active_min"))))  # fmt: skip
    reasoning = "; ".join(ev.get("reasons") or [])[:4000]
    if kind == PURCHASE_DECISION:
        return Proposal(
            decision_type=PURCHASE_DECISION, subject=d.id, marketplace=d.source,
            current={"deal_id": d.id, "asking_price": str(d.asking_price), "max_price": str(d.max_price),
                     "reserved": str(amount)},
            proposed={"deal_id": d.id, "price": str(inp.price), "amount": str(amount), "quantity": 1,
                      "unit_cost": str(landed)},
            confidence=min(1.0, max(0.0, d.confidence or 0.0)), reasoning=reasoning, factors=factors,
            evidence=evidence, expires_at=None, requested_by="arbitrage",
        )  # fmt: skip
    return Proposal(
        decision_type=OFFER_DECISION, subject=d.id, marketplace=d.source,
        current={"deal_id": d.id, "asking_price": str(d.asking_price), "max_price": str(d.max_price)},
        proposed={"deal_id": d.id, "offer": str(inp.price), "round": inp.round_no},
        confidence=min(1.0, max(0.0, d.confidence or 0.0)),
        reasoning=f"offer {inp.price} to the seller (round {inp.round_no}); {reasoning}"[:4000],
        factors=factors, evidence=evidence, requested_by="arbitrage",
    )  # fmt: skip
