"""The offer-source port. Every source searches (paged by an opaque cursor); some also carry messages to sellers
and sell through a checkout. Capabilities are per source: the loop negotiates only where it can message, and buys
only where it can check out.

Searching and messaging are async (many calls, I/O-bound activities). Checkout is synchronous on purpose: it runs
inside the decision executor's unit of work (a thread-pool activity), next to the budget rows it has locked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from connectors.errors import NonRetryableError
from domain.arbitrage.offers import RawOffer


class SearchQuery(BaseModel):
    keywords: str = Field(default="", max_length=200)
    category: str | None = Field(default=None, max_length=100)
    min_price: Decimal | None = Field(default=None, gt=0)
    max_price: Decimal | None = Field(default=None, gt=0)
    condition: str | None = Field(default=None, max_length=40)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=20000)


class OfferPage(BaseModel):
    offers: list[RawOffer]
    next_cursor: str | None = None


class SellerMessage(BaseModel):
    id: str
    sender: str  # "seller" | "buyer"
    text: str  # untrusted
    offer_amount: Decimal | None = None


class SourceOrder(BaseModel):
    order_id: str
    status: str  # pending_payment | paid | cancelled | expired
    amount: Decimal
    currency: str
    payment_reference: str | None = None


class Unavailable(NonRetryableError):
    """The item is gone (sold, reserved by someone else, removed) or the seller has not agreed to the price."""


@runtime_checkable
class OfferSource(Protocol):
    name: str  # "classifieds" | "ebay" | "scraped:<domain>"
    can_message: bool
    can_checkout: bool

    async def search(self, query: SearchQuery, cursor: str | None, limit: int) -> OfferPage: ...

    async def get_offer(self, source_id: str) -> RawOffer | None:
        """The offer as it is now; None when it is gone."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Messaging(Protocol):
    async def send_message(self, source_id: str, text: str, offer_amount: Decimal | None) -> str: ...

    async def messages(self, source_id: str, after_id: str | None) -> list[SellerMessage]: ...


@runtime_checkable
class Checkout(Protocol):
    def checkout(self, source_id: str, *, amount: Decimal, idempotency_key: str) -> SourceOrder: ...

    def confirm(self, order_id: str, *, payment_reference: str, idempotency_key: str) -> SourceOrder: ...

    def cancel(self, order_id: str, *, idempotency_key: str) -> SourceOrder: ...

    def get_order(self, order_id: str) -> SourceOrder: ...
