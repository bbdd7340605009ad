"""The classifieds sandbox's shared pieces: API keys, its published rate limit, errors, signed webhooks, and the
sellers - bots that answer buyers' messages the way each listing's `behaviour` says.

A stand-in for local marketplaces (Craigslist, Facebook Marketplace, OfferUp, Kleinanzeigen ...), none of which
offers a public buying API: its REST API is this project's own, shaped like a typical marketplace API (cursor
paging, money as {amount, currency}, idempotency keys on checkout, HMAC-signed webhooks in Stripe's scheme).
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from connectors.arbitrage_sources.sandbox_defaults import CLASSIFIEDS_API_KEY, CLASSIFIEDS_WEBHOOK_SECRET
from connectors.payments.signature import header
from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter

# The sandbox's published limit (its own docs, /_sandbox/docs): 20 requests per second per key, bursts of 40.
RATE_PER_SECOND, BURST = 20.0, 40.0
SIGNATURE_HEADER = "x-classifieds-signature"


class ClassifiedsError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class ClassifiedsConfig(BaseModel):
    reply_delay_seconds: float = Field(0.2, ge=0, le=3600)  # how long a seller takes to answer
    order_hold_seconds: float = Field(900, gt=0)  # a checkout holds the item this long for the payment
    hang_confirm_seconds: float = Field(0, ge=0, le=600)  # tests: confirming an order hangs this long first
    confirm_fails: bool = False  # tests: the seller has sold it elsewhere when we confirm
    api_keys: list[str] = Field(default_factory=lambda: [CLASSIFIEDS_API_KEY])


class Behaviour(BaseModel):
    """How a listing's seller negotiates. `auto`: accepts offers at or above `floor` (default 90 % of the asking
    price), otherwise counters half way, at most twice, then states the floor; `never`: never answers; `script`:
    sends `script[n]` as its n-th answer, whatever was asked (prompt-injection texts, odd wordings)."""

    mode: str = "auto"
    floor: Decimal | None = None
    script: list[str] = Field(default_factory=list)
    agreed: Decimal | None = None  # the lowest price this seller has said yes to (or countered with)


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class ClassifiedsSandbox:
    def __init__(
        self, state: SandboxState, emitter: WebhookEmitter, config: ClassifiedsConfig, base_url: str
    ) -> None:
        self.state, self.emitter, self.config, self.base_url = state, emitter, config, base_url
        self._tasks: set[asyncio.Task[None]] = set()

    def authorise(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:].strip() not in self.config.api_keys:
            raise ClassifiedsError(401, "unauthorized", "missing or unknown API key")
        wait = self.state.take("api", rate=RATE_PER_SECOND, burst=BURST)
        if wait is not None:
            raise ClassifiedsError(
                429, "rate_limited", "too many requests", {"retry-after": str(max(1, round(wait)))}
            )

    def webhook(self, event_type: str, data: dict[str, Any]) -> None:
        event = {"id": f"evt_{time.time_ns()}", "type": event_type, "created": int(time.time()), "data": data}
        secret = self.state.webhook.secret or CLASSIFIEDS_WEBHOOK_SECRET

        def sign(body: bytes, _: dict[str, str]) -> dict[str, str]:
            return {SIGNATURE_HEADER: header(body, secret, int(time.time()))}

        self.emitter.emit(self.state.webhook.url, event, {}, sign)

    # ---- sellers -------------------------------------------------------------------------------------------------
    def behaviour(self, row: Any) -> Behaviour:
        return Behaviour.model_validate(json.loads(row["behaviour"] or "{}"))

    def save_behaviour(self, listing_id: str, b: Behaviour) -> None:
        self.state.store.execute(
            "UPDATE cl_listing SET behaviour = ? WHERE id = ?", (b.model_dump_json(), listing_id)
        )

    def seller_answer(self, row: Any, offer: Decimal | None) -> str | None:
        """What the seller says to a buyer's message (None: silence). Updates what the seller agreed to."""
        b = self.behaviour(row)
        said = self.state.store.one(
            "SELECT COUNT(*) AS n FROM cl_message WHERE listing_id = ? AND sender = 'seller'", (row["id"],)
        )["n"]
        if b.mode == "never":
            return None
        if b.mode == "script":
            return b.script[said] if said < len(b.script) else None
        asking = Decimal(row["price"])
        floor = (
            b.floor if b.floor is not None else (asking * Decimal("0.9")).quantize(Decimal(1), ROUND_FLOOR)
        )
        if offer is None:
            return f"Yes, it's still available. {money(asking)} {row['currency']}."
        if offer >= floor:
            b.agreed = offer if b.agreed is None else min(b.agreed, offer)
            self.save_behaviour(row["id"], b)
            return f"Deal! {money(offer)} works for me."
        if said >= 2:
            b.agreed = floor if b.agreed is None else min(b.agreed, floor)
            self.save_behaviour(row["id"], b)
            return f"Sorry, {money(floor)} is my lowest."
        counter = max(floor, ((offer + asking) / 2).quantize(Decimal(1), ROUND_FLOOR))
        b.agreed = counter if b.agreed is None else min(b.agreed, counter)
        self.save_behaviour(row["id"], b)
        return f"I could do {money(counter)}."

    def reply_later(self, listing_id: str, text: str) -> None:
        async def later() -> None:
            await asyncio.sleep(self.config.reply_delay_seconds)
            self.post_seller_message(listing_id, text)

        task = asyncio.get_running_loop().create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def post_seller_message(self, listing_id: str, text: str) -> dict[str, Any]:
        cur = self.state.store.execute(
            "INSERT INTO cl_message(listing_id, sender, text, created) VALUES (?, 'seller', ?, ?)",
            (listing_id, text, time.time()),
        )
        message = {"id": cur.lastrowid, "listing_id": listing_id, "sender": "seller", "text": text}
        self.webhook("message.created", {"listing_id": listing_id, "message": message})
        return message
