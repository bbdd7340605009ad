"""Negotiating with a seller, within rules no reply can bend: never offer above the computed max price, at most
`max_rounds` offers, an offer above `approval_threshold` waits for a human.

Seller messages are untrusted text from strangers. The only things taken from them are an intent (accept,
decline, counter) and at most one amount, both by plain pattern matching; the text itself is stored (truncated)
for people to read and is never executed, forwarded or put into a prompt as instructions. An amount a seller
writes can only ever be accepted when it is at or below our max price.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_REPLY_CHARS = 2000
# an amount: optional "$", digits, optional cents; not part of a phone number, a date or a percentage
_AMOUNT = re.compile(r"(?<![\w.\-/%])\$?\s?(\d{1,6}(?:[.,]\d{1,2})?)(?![\d\-/]|[.,]\d|\s?%)")
_ACCEPT = re.compile(
    r"\b(deal|accept(?:ed)?|agreed?|ok(?:ay)?|sure|yes|yep|sounds good|it'?s yours|works for me|done)\b"
)
_DECLINE = re.compile(
    r"\b(no|nope|not interested|firm|no low ?ball\w*|sold|pass|can'?t|cannot|won'?t|price is final)\b"
)
_GONE = re.compile(r"\b(sold|not interested|no longer available|gone)\b")

Intent = Literal["accept", "counter", "decline", "unclear"]


class NegotiationRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_rounds: int = Field(3, ge=1, le=10)  # offers we make, the opening one included
    opening_fraction: Decimal = Field(Decimal("0.85"), gt=0, le=1)  # first offer: this share of the max price
    approval_threshold: Decimal = Field(Decimal(150), ge=0)  # an offer above this waits for a human
    reply_timeout_hours: float = Field(168.0, gt=0, le=24 * 60)  # how long we wait for each answer
    negotiation_room: Decimal = Field(Decimal("0.30"), ge=0, lt=1)  # asking may be this far above our max


class SellerReply(BaseModel):
    intent: Intent
    amount: Decimal | None = None
    text: str = ""  # truncated, for people to read


class Move(BaseModel):
    kind: Literal["offer", "accept", "walk_away"]
    amount: Decimal | None = None
    final: bool = False  # our last offer
    reason: str
    needs_approval: bool = False


def whole(amount: Decimal) -> Decimal:
    """People negotiate in whole currency units: round down."""
    return amount.quantize(Decimal(1), ROUND_FLOOR)


def parse_reply(text: str, *, asking: Decimal) -> SellerReply:
    """Intent and amount of a seller's message. Amounts outside (0, 3 x asking] are not taken as offers (a
    phone number, a year, or a prank)."""
    clipped = text[:MAX_REPLY_CHARS]
    low = clipped.lower()
    amount: Decimal | None = None
    for m in _AMOUNT.finditer(low):
        try:
            value = Decimal(m.group(1).replace(",", "."))
        except InvalidOperation:
            continue
        if 0 < value <= asking * 3:
            amount = value
    accepts, declines = bool(_ACCEPT.search(low)), bool(_DECLINE.search(low))
    if _GONE.search(low):
        intent: Intent = "decline"
    elif amount is not None:  # "120 firm" is a counter at 120, "no, but 90" a counter at 90
        intent = "counter"
    elif accepts and not declines:
        intent = "accept"
    elif declines:
        intent = "decline"
    else:
        intent = "unclear"
    return SellerReply(intent=intent, amount=amount, text=clipped)


def opening_offer(*, asking: Decimal, max_price: Decimal, rules: NegotiationRules) -> Move:
    amount = min(whole(max_price * rules.opening_fraction), whole(asking))
    if amount <= 0:
        return Move(kind="walk_away", reason="no positive offer fits under the max price")
    final = rules.max_rounds == 1 or amount >= max_price
    return Move(
        kind="offer",
        amount=amount,
        final=final,
        reason=f"opening at {amount} (max {max_price}, asking {asking})",
        needs_approval=amount > rules.approval_threshold,
    )


def next_move(
    reply: SellerReply, *, last_offer: Decimal, offers_made: int, max_price: Decimal, rules: NegotiationRules
) -> Move:
    """Our answer to the seller's reply to `last_offer`. Never above `max_price`, never more than max_rounds."""
    rounds_left = rules.max_rounds - offers_made

    def offer(amount: Decimal, reason: str) -> Move:
        amount = min(amount, max_price)
        if amount <= last_offer:
            return Move(kind="walk_away", reason=f"{reason}; nothing left to offer above {last_offer}")
        final = rounds_left == 1 or amount >= max_price
        return Move(
            kind="offer",
            amount=amount,
            final=final,
            reason=reason,
            needs_approval=amount > rules.approval_threshold,
        )

    if reply.intent == "accept" or (reply.intent == "counter" and reply.amount == last_offer):
        return Move(kind="accept", amount=last_offer, reason=f"seller accepted {last_offer}")
    if reply.intent == "counter" and reply.amount is not None:
        if reply.amount <= max_price:
            return Move(
                kind="accept",
                amount=reply.amount,
                reason=f"seller's counter {reply.amount} is within our max {max_price}",
                needs_approval=reply.amount > rules.approval_threshold,
            )
        if rounds_left <= 0:
            return Move(
                kind="walk_away", reason=f"counter {reply.amount} above our max {max_price}, no rounds left"
            )
        if rounds_left == 1:
            return offer(whole(max_price), f"counter {reply.amount}: final offer at our max")
        return offer(whole((last_offer + reply.amount) / 2), f"counter {reply.amount}: meeting half way")
    if rounds_left <= 0:
        return Move(kind="walk_away", reason=f"seller said {reply.intent!r}, no rounds left")
    if reply.intent == "decline":
        return offer(whole(max_price), "seller declined: final offer at our max")
    return offer(whole(last_offer + (max_price - last_offer) / 2), "unclear answer: a little higher")


# Outgoing messages are fixed templates with our numbers only: nothing a seller wrote is echoed back.
TEMPLATES = {
    "opening": "Hi! Is this still available? I could pay {amount} {currency} today.",
    "counter": "Thanks for getting back to me. Could you do {amount} {currency}?",
    "final": "{amount} {currency} is the most I can do. Let me know if that works.",
    "accept": "Great, {amount} {currency} works for me. I'll check out now.",
}


def message_for(move: Move, *, opening: bool, currency: str = "USD") -> str:
    if move.amount is None:
        raise ValueError("a message needs an amount")
    kind = (
        "accept" if move.kind == "accept" else "opening" if opening else "final" if move.final else "counter"
    )
    return TEMPLATES[kind].format(amount=f"{move.amount:.2f}", currency=currency)
