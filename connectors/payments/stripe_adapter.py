"""The payments port on Stripe's PaymentIntents API through the official SDK (`stripe`). A buyer's card is
authorised with `capture_method=manual` and captured once the seller has confirmed the order, so a failed
confirmation only voids a hold instead of needing a refund.

Pointing it at the local sandbox is a base-URL change (`MERCHFLOW_ARBITRAGE__PAYMENTS__BASE_URL`); the SDK's own
retries (`max_network_retries`) resend with the same idempotency key, which Stripe and the sandbox answer with the
first result.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe

from connectors.errors import (
    AuthError,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)
from connectors.payments.port import Payment, PaymentDeclined, Refund

ZERO_DECIMAL = frozenset(
    {"jpy", "krw", "vnd", "clp", "isk", "huf", "twd", "ugx"}
)  # Stripe's zero-decimal currencies


def to_minor(amount: Decimal, currency: str) -> int:
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return int((amount * factor).quantize(Decimal(1), ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(amount) if currency.lower() in ZERO_DECIMAL else Decimal(amount) / 100


def _error(exc: stripe.StripeError, operation: str) -> Exception:
    kw: dict[str, Any] = {"marketplace": "stripe", "operation": operation, "status": exc.http_status,
                          "code": getattr(exc, "code", None)}  # fmt: skip
    message = exc.user_message or str(exc)
    if isinstance(exc, stripe.CardError):
        return PaymentDeclined(message, **{**kw, "code": getattr(exc, "decline_code", None) or kw["code"]})
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(message, **kw)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return AuthError(message, **kw)
    if isinstance(exc, stripe.APIConnectionError):
        return TransportError(message, outcome_unknown=True, **kw)
    if isinstance(exc, stripe.InvalidRequestError):
        return (NotFoundError if exc.http_status == 404 else ValidationError)(message, **kw)
    if isinstance(exc, stripe.IdempotencyError):
        return ValidationError(message, **kw)
    return ServerError(message, outcome_unknown=True, **kw)


class StripePayments:
    provider = "stripe"

    def __init__(self, *, api_key: str, base_url: str | None = None, max_network_retries: int = 2,
                 timeout: float = 30.0) -> None:  # fmt: skip
        kw: dict[str, Any] = {"max_network_retries": max_network_retries,
                              "http_client": stripe.RequestsClient(timeout=timeout)}  # fmt: skip
        if base_url:
            kw["base_addresses"] = {"api": base_url.rstrip("/")}
        self.client = stripe.StripeClient(api_key, **kw)

    def _call(self, operation: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _error(exc, operation) from exc

    @staticmethod
    def _payment(obj: Any) -> Payment:
        pi = obj.to_dict()
        cur = pi["currency"]
        return Payment(
            id=pi["id"],
            status=pi["status"],
            amount=from_minor(pi["amount"], cur),
            captured=from_minor(pi["amount_received"] or 0, cur),
            currency=cur.upper(),
            charge_id=pi.get("latest_charge"),
        )

    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        description: str,
    ) -> Payment:
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "payment_method": metadata.get("payment_method", "pm_card_visa"),
            "description": description[:350],
            "metadata": {k: v[:500] for k, v in metadata.items() if k != "payment_method"},
        }
        pi = self._call("authorise", self.client.v1.payment_intents.create, params=params,
                        options={"idempotency_key": idempotency_key})  # fmt: skip
        return self._payment(pi)

    def capture(self, payment_id: str, *, idempotency_key: str) -> Payment:
        pi = self._call("capture", self.client.v1.payment_intents.capture, payment_id,
                        options={"idempotency_key": idempotency_key})  # fmt: skip
        return self._payment(pi)

    def cancel(self, payment_id: str, *, idempotency_key: str) -> Payment:
        pi = self._call("cancel", self.client.v1.payment_intents.cancel, payment_id,
                        options={"idempotency_key": idempotency_key})  # fmt: skip
        return self._payment(pi)

    def refund(
        self, payment_id: str, *, idempotency_key: str, amount: Decimal | None = None, reason: str = ""
    ) -> Refund:
        current = self.get(payment_id)
        params: dict[str, Any] = {"payment_intent": payment_id, "metadata": {"reason": reason[:500]}}
        if amount is not None:
            params["amount"] = to_minor(amount, current.currency)
        re = self._call("refund", self.client.v1.refunds.create, params=params,
                        options={"idempotency_key": idempotency_key})  # fmt: skip
        return Refund(id=re.id, payment_id=payment_id, amount=from_minor(re.amount, current.currency),
                      status=re.status)  # fmt: skip

    def get(self, payment_id: str) -> Payment:
        return self._payment(self._call("retrieve", self.client.v1.payment_intents.retrieve, payment_id))
