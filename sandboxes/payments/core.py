"""The payments sandbox's shared pieces: API keys, Stripe's error shape, its test-mode rate limit, events and their
signed webhook deliveries (each event once, or twice when `duplicate_deliveries` is on, to prove the receiver
deduplicates)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from connectors.payments.sandbox_defaults import SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET
from connectors.payments.signature import header
from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.payments.store import new_id, now

API_VERSION = "2024-06-20"
# Stripe's documented default limits: 25 operations per second in test mode (100 in live mode), reads and writes
# counted separately.
TEST_MODE_RATE = 25.0


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message
        self.code, self.param, self.decline_code, self.payment_intent = (
            code,
            param,
            decline_code,
            payment_intent,
        )
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        for k in ("code", "param", "decline_code", "payment_intent"):
            if getattr(self, k) is not None:
                err[k] = getattr(self, k)
        return {"error": err}


class PaymentsConfig(BaseModel):
    decline_next: int = Field(0, ge=0)  # the next N authorisations are declined, whatever the card
    capture_fails_next: int = Field(0, ge=0)  # the next N captures fail (authorisation expired)
    duplicate_deliveries: bool = False  # every webhook delivered twice
    api_keys: list[str] = Field(default_factory=lambda: [SANDBOX_API_KEY])


class PaymentsSandbox:
    def __init__(self, state: SandboxState, emitter: WebhookEmitter, config: PaymentsConfig) -> None:
        self.state = state
        self.emitter = emitter
        self.config = config

    def authorise(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip()
        if not auth.startswith("Bearer ") or key not in self.config.api_keys:
            shown = (key[:8] + "*" * 8) if key else "(none)"
            raise StripeError(401, "invalid_request_error", f"Invalid API Key provided: {shown}")

    def throttle(self, kind: str) -> None:
        wait = self.state.take(f"stripe:{kind}", rate=TEST_MODE_RATE, burst=TEST_MODE_RATE)
        if wait is not None:
            raise StripeError(
                429,
                "invalid_request_error",
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                code="rate_limit",
                headers={"retry-after": str(max(1, round(wait)))},
            )

    def event(self, type_: str, obj: dict[str, Any]) -> None:
        ev_id, created = new_id("evt"), now()
        self.state.store.execute(
            "INSERT INTO pay_event(id, type, created, data) VALUES (?,?,?,?)",
            (ev_id, type_, created, json.dumps(obj)),
        )
        row = self.state.store.one("SELECT * FROM pay_event WHERE id = ?", (ev_id,))
        self.deliver(self.event_object(row))

    def event_object(self, row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "object": "event",
            "api_version": API_VERSION,
            "created": row["created"],
            "type": row["type"],
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(row["data"])},
        }

    def deliver(self, event: dict[str, Any]) -> None:
        secret = self.state.webhook.secret or SANDBOX_WEBHOOK_SECRET

        def sign(body: bytes, _: dict[str, str]) -> dict[str, str]:
            return {"stripe-signature": header(body, secret, int(time.time()))}

        times = 2 if self.config.duplicate_deliveries else 1
        for _ in range(times):
            self.emitter.emit(self.state.webhook.url, event, {}, sign)
