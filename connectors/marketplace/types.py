"""Typed values crossing the Marketplace port. Bulk operations answer per item: a bulk call can partly fail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

MarketplaceName = Literal["amazon", "ebay", "shopify", "woocommerce"]
IdentifierType = Literal["upc", "ean", "isbn", "asin", "gtin", "mpn", "sku"]


class ListingSnapshot(BaseModel):
    """One listing as the marketplace reports it right now."""

    sku: str
    external_id: str | None = None  # ASIN / offerId / product gid / product id
    external_variant_id: str | None = None  # Shopify variant / inventory item, Woo variation
    quantity: int | None = None
    price: Decimal | None = None
    currency: str | None = None
    status: str | None = None  # active | inactive | ended | ... (marketplace wording mapped)
    extra: dict[str, Any] = Field(default_factory=dict)
    # what a listing sync links on (filled by `list_catalog`; reconciles' `list_listings` may leave them empty)
    title: str | None = None
    brand: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)  # upc / ean / isbn / gtin / asin / mpn -> value
    parent_sku: str | None = None  # a variant's parent (product) SKU on the marketplace
    options: dict[str, str] | None = None  # a variant's options, e.g. {"Size": "M"}


class ListingsPage(BaseModel):
    items: list[ListingSnapshot]
    next_cursor: str | None = None  # opaque; None = last page


class QuantityUpdate(BaseModel):
    sku: str
    quantity: int = Field(ge=0)
    # compare-and-set guard where the API has one (Shopify compareQuantity): the quantity we believe is live
    expected_quantity: int | None = None
    external_id: str | None = None
    external_variant_id: str | None = None


class PriceUpdate(BaseModel):
    sku: str
    price: Decimal = Field(gt=0)
    currency: str = "USD"
    external_id: str | None = None
    external_variant_id: str | None = None


OutcomeStatus = Literal["applied", "rejected", "conflict", "failed"]


class ItemOutcome(BaseModel):
    """What happened to one item of a bulk request.

    applied: the change is live (for asynchronous APIs: confirmed by the processing report, not just accepted);
    rejected: the marketplace refused it for a reason retrying will not fix (validation, unknown SKU);
    conflict: a compare-and-set guard failed (someone else changed it) - re-read and decide again;
    failed: transient failure for this item - safe to retry this item.
    """

    sku: str
    status: OutcomeStatus
    code: str | None = None
    message: str | None = None
    external_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "applied"

    @property
    def retryable(self) -> bool:
        return self.status == "failed"


class BulkResult(BaseModel):
    outcomes: list[ItemOutcome]
    # marketplace-side ids of the submissions (feed ids, request ids) for operators and logs
    submission_ids: list[str] = Field(default_factory=list)

    @property
    def applied(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status == "applied"]

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status != "applied"]


class ListingDraft(BaseModel):
    sku: str
    title: str
    description: str | None = None
    price: Decimal = Field(gt=0)
    currency: str = "USD"
    quantity: int = Field(ge=0, default=0)
    brand: str | None = None
    category: str | None = None
    condition: str = "new"
    image_urls: list[str] = Field(default_factory=list)
    identifiers: dict[str, str] = Field(default_factory=dict)  # upc / ean / isbn / asin / mpn
    attributes: dict[str, Any] = Field(default_factory=dict)
    product_type: str | None = None  # Amazon productType, eBay category id, ...


class OrderLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0)
    unit_price: Decimal | None = None
    line_id: str | None = None


class Order(BaseModel):
    marketplace: MarketplaceName
    account: str
    order_id: str
    status: str  # marketplace wording
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]
    currency: str | None = None
    cancelled: bool = False


class OrdersPage(BaseModel):
    orders: list[Order]
    # Persist only after the batch is processed: the next poll starts from here.
    next_cursor: str | None = None
    has_more: bool = False


class ProductIdentifier(BaseModel):
    type: IdentifierType
    value: str
    sku: str | None = None  # our SKU, if known, echoed back in results


class CompetitivePrice(BaseModel):
    identifier: ProductIdentifier
    price: Decimal
    shipping: Decimal | None = None
    currency: str
    condition: str | None = None
    seller: str | None = None
    source: str  # "amazon:getCompetitivePricing", ...
    fetched_at: datetime | None = None


WebhookKind = Literal["order_created", "order_updated", "order_cancelled", "quantity_changed", "other"]


class WebhookEvent(BaseModel):
    marketplace: MarketplaceName
    account: str
    event_id: str  # dedupe key (marketplace event / delivery id, or topic + order id)
    kind: WebhookKind
    topic: str
    order: Order | None = None
    sku: str | None = None
    quantity: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class ListingResult(BaseModel):
    sku: str
    status: OutcomeStatus
    external_id: str | None = None
    code: str | None = None
    message: str | None = None
