"""A deal's life and its books: the states an opportunity moves through, and profit predicted vs realised.

States only move forward (`advance`): an activity retried after a crash, or a late duplicate signal, cannot move
a deal back to an earlier state.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

# in order of the happy path; the terminal states are reachable from the states listed in TERMINAL_FROM
DISCOVERED = "discovered"
NEGOTIATING = "negotiating"
AGREED = "agreed"
AWAITING_APPROVAL = "awaiting_approval"
PURCHASED = "purchased"
RECEIVED = "received"
LISTED = "listed"
SOLD = "sold"
FLOW = (DISCOVERED, NEGOTIATING, AGREED, AWAITING_APPROVAL, PURCHASED, RECEIVED, LISTED, SOLD)

SKIPPED = "skipped"  # limits or a fresh look said no before any money moved
NO_DEAL = "no_deal"  # the seller never answered, declined, or wanted more than our max
REJECTED = "rejected"  # a human said no (or nobody decided in time)
FAILED = "failed"  # the purchase failed; anything paid was refunded or never captured
REFUNDED = "refunded"  # bought, never arrived: the payment was refunded
UNSOLD = "unsold"  # held past the longest we wait for a sale
TERMINAL = frozenset({SOLD, SKIPPED, NO_DEAL, REJECTED, FAILED, REFUNDED, UNSOLD})
STATES = (*FLOW, SKIPPED, NO_DEAL, REJECTED, FAILED, REFUNDED, UNSOLD)


class StateError(ValueError):
    pass


def advance(current: str, new: str) -> bool:
    """True when `current` -> `new` moves the deal forward; False for a repeat (same state, nothing to do).
    Raises StateError for a move backwards or out of a terminal state."""
    if new not in STATES:
        raise StateError(f"unknown deal state {new!r}")
    if current == new:
        return False
    if current in TERMINAL:
        raise StateError(f"deal is {current}; it cannot become {new}")
    if new in FLOW and FLOW.index(new) <= FLOW.index(current):
        raise StateError(f"deal is {current}; {new} is behind it")
    return True


class PnL(BaseModel):
    """One deal's books. Realised figures exist once it sold."""

    predicted_sale_price: Decimal
    predicted_fees: Decimal
    predicted_profit: Decimal
    landed_cost: Decimal  # what the purchase really cost (the predicted one until bought)
    realised_sale_price: Decimal | None = None
    realised_fees: Decimal | None = None
    realised_profit: Decimal | None = None

    @property
    def error(self) -> Decimal | None:
        """Realised minus predicted profit (negative: we were optimistic)."""
        return None if self.realised_profit is None else self.realised_profit - self.predicted_profit


def realised_profit(
    *, sale_price: Decimal, fees: Decimal, shipping_cost: Decimal, landed_cost: Decimal
) -> Decimal:
    return sale_price - fees - shipping_cost - landed_cost


class HitRate(BaseModel):
    """How the loop does: of the deals it bought, how many sold at a profit, and how good its predictions were."""

    evaluated: int  # offers looked at
    opportunities: int  # deals started (buy / negotiate)
    bought: int
    sold: int
    profitable: int  # sold with a realised profit > 0
    hit_rate: float | None  # profitable / sold
    buy_rate: float | None  # bought / opportunities
    predicted_profit: Decimal  # over the sold deals
    realised_profit: Decimal
    mean_error: Decimal | None  # realised - predicted, per sold deal


def hit_rate(*, evaluated: int, opportunities: int, bought: int, sold: list[PnL]) -> HitRate:
    done = [p for p in sold if p.realised_profit is not None]
    profitable = sum(1 for p in done if (p.realised_profit or 0) > 0)
    predicted = sum((p.predicted_profit for p in done), Decimal(0))
    realised = sum((p.realised_profit or Decimal(0) for p in done), Decimal(0))
    return HitRate(
        evaluated=evaluated,
        opportunities=opportunities,
        bought=bought,
        sold=len(done),
        profitable=profitable,
        hit_rate=round(profitable / len(done), 4) if done else None,
        buy_rate=round(bought / opportunities, 4) if opportunities else None,
        predicted_profit=predicted,
        realised_profit=realised,
        mean_error=((realised - predicted) / len(done)).quantize(Decimal("0.01")) if done else None,
    )
