"""Token prices, cost caps and the ledger that enforces them.

A call is only made after the ledger has *reserved* its worst-case cost (estimated input tokens at the input
price + the output token limit at the output price) under both the per-run and the per-day cap; afterwards
the reservation is settled to the real cost. So concurrent calls can never together pass a cap, and a cap is
reached before the money is spent, not after.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from connectors.errors import NonRetryableError

_THOUSAND = Decimal(1000)
IMAGE_TOKENS_ESTIMATE = 1600  # a 1-2 MP image at the providers' published rates (upper end)


@dataclass(frozen=True)
class Pricing:
    in_per_1k: Decimal = Decimal("0")
    out_per_1k: Decimal = Decimal("0")

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        total = (
            Decimal(input_tokens) * self.in_per_1k / _THOUSAND
            + Decimal(output_tokens) * self.out_per_1k / _THOUSAND
        )
        return total.quantize(Decimal("0.000001"))


def estimate_input_tokens(text_chars: int, images: int) -> int:
    # ~4 characters per token for English text and JSON; rounded up, plus a margin for the message framing
    return text_chars // 3 + 50 + images * IMAGE_TOKENS_ESTIMATE


class CostCapReached(NonRetryableError):
    """The next call could pass a spend cap: the run stops and asks (a decision) instead of spending."""

    def __init__(self, scope: str, spent: Decimal, cap: Decimal, needed: Decimal) -> None:
        super().__init__(
            f"LLM {scope} cost cap reached: spent {spent}, cap {cap}, the next call may cost up to {needed}",
            operation="draft_listing",
            code=f"{scope}_cost_cap",
        )
        self.scope = scope
        self.spent = spent
        self.cap = cap


@dataclass(frozen=True)
class Reservation:
    id: str
    run_id: str | None
    day: date
    amount: Decimal


class CostLedger(Protocol):
    def reserve(self, *, run_id: str | None, day: date, amount: Decimal) -> Reservation: ...
    def settle(self, reservation: Reservation, actual: Decimal) -> None: ...
    def spent(self, *, run_id: str | None = None, day: date | None = None) -> Decimal: ...


class InMemoryCostLedger:
    """One process's ledger (tests, a single worker). A SQL-backed one shares caps across workers."""

    def __init__(self, *, run_cap: Decimal | None, day_cap: Decimal | None) -> None:
        self.run_cap, self.day_cap = run_cap, day_cap
        self._runs: dict[str, Decimal] = {}
        self._days: dict[date, Decimal] = {}
        self._lock = threading.Lock()

    def reserve(self, *, run_id: str | None, day: date, amount: Decimal) -> Reservation:
        with self._lock:
            run_spent = self._runs.get(run_id, Decimal(0)) if run_id else Decimal(0)
            day_spent = self._days.get(day, Decimal(0))
            if run_id and self.run_cap is not None and run_spent + amount > self.run_cap:
                raise CostCapReached("run", run_spent, self.run_cap, amount)
            if self.day_cap is not None and day_spent + amount > self.day_cap:
                raise CostCapReached("day", day_spent, self.day_cap, amount)
            if run_id:
                self._runs[run_id] = run_spent + amount
            self._days[day] = day_spent + amount
            return Reservation(id=uuid.uuid4().hex, run_id=run_id, day=day, amount=amount)

    def settle(self, reservation: Reservation, actual: Decimal) -> None:
        delta = actual - reservation.amount
        with self._lock:
            if reservation.run_id:
                self._runs[reservation.run_id] = self._runs.get(reservation.run_id, Decimal(0)) + delta
            self._days[reservation.day] = self._days.get(reservation.day, Decimal(0)) + delta

    def spent(self, *, run_id: str | None = None, day: date | None = None) -> Decimal:
        with self._lock:
            if run_id is not None:
                return self._runs.get(run_id, Decimal(0))
            if day is not None:
                return self._days.get(day, Decimal(0))
            return sum(self._days.values(), Decimal(0))
