"""The payments port: what buying with a card needs. Synchronous on purpose: the purchase runs inside the
decision executor's unit of work (a thread-pool activity), next to the rows it locks.

Every call that moves money takes an idempotency key; the same key always means the same payment, so a step
repeated after a crash returns the first answer instead of charging again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel

from connectors.errors import NonRetryableError

# Stripe's PaymentIntent states that matter here
AUTHORISED = "requires_capture"
SUCCEEDED = "succeeded"
CANCELED = "canceled"


class Payment(BaseModel):
    id: str
    status: str
    amount: Decimal  # authorised (or charged) amount, in currency units
    captured: Decimal = Decimal(0)
    currency: str
    charge_id: str | None = None


class Refund(BaseModel):
    id: str
    payment_id: str
    amount: Decimal
    status: str  # succeeded | pending | failed


class PaymentDeclined(NonRetryableError):
    """The card was declined (or the authorisation could not be captured): retrying the same key answers the same."""


class Payments(Protocol):
    provider: str

    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        description: str,
    ) -> Payment: ...

    def capture(self, payment_id: str, *, idempotency_key: str) -> Payment: ...

    def cancel(self, payment_id: str, *, idempotency_key: str) -> Payment: ...

    def refund(
        self, payment_id: str, *, idempotency_key: str, amount: Decimal | None = None, reason: str = ""
    ) -> Refund: ...

    def get(self, payment_id: str) -> Payment: ...
