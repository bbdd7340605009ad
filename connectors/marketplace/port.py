"""The Marketplace port. Business code depends on this Protocol only; adapters are wired in the composition root.

Every method is bulk-first and idempotent to repeat: quantities and prices are set to absolute values, and every
mutating call carries an idempotency key that the adapter forwards wherever the marketplace accepts one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from connectors.marketplace.types import (
    BulkResult,
    CompetitivePrice,
    ListingDraft,
    ListingResult,
    ListingsPage,
    OrdersPage,
    PriceUpdate,
    ProductIdentifier,
    QuantityUpdate,
    WebhookEvent,
)

# Called while an adapter waits on something slow (an Amazon feed being processed): activities pass a
# heartbeat here so Temporal knows they are alive.
WaitCallback = Callable[[str], None]


@runtime_checkable
class Marketplace(Protocol):
    marketplace: str  # "amazon" | "ebay" | "shopify" | "woocommerce"
    account: str  # account name (several accounts per marketplace are allowed)

    # Largest batch one bulk call accepts (eBay 25, Woo 100, Amazon feed 25,000 messages, ...)
    max_batch: int

    async def list_listings(
        self, cursor: str | None = None, *, page_size: int | None = None
    ) -> ListingsPage: ...

    async def list_catalog(
        self, cursor: str | None = None, *, page_size: int | None = None, on_wait: WaitCallback | None = None
    ) -> ListingsPage:
        """Every listing with what linking needs (title, brand, identifiers, variant parent / options), in pages;
        the marketplace's own SKUs. The cursor is opaque and survives processes (listing sync continues-as-new)."""
        ...

    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult: ...

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult: ...

    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult: ...

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult: ...

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult: ...

    async def list_orders(self, cursor: str | None = None) -> OrdersPage: ...

    async def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> ListingResult: ...

    async def competitive_prices(
        self, identifiers: Sequence[ProductIdentifier]
    ) -> list[CompetitivePrice]: ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check the signature and parse; raises connectors.errors.WebhookRejected for a forged or malformed one."""
        ...

    async def aclose(self) -> None: ...
