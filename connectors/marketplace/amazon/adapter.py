"""Amazon Selling Partner API adapter of the Marketplace port (see README.md for configuration).

Bulk quantity / price changes go through JSON_LISTINGS_FEED feeds (up to 25,000 messages each, outcome per
message from the processing report); single listings through Listings Items 2021-08-01; listings are read with
searchListingsItems (or FBA getInventorySummaries); orders with Orders v0. Extras beyond the port: fee estimates,
catalog search by identifiers, product type search and definitions, FBA inventory pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from connectors.http import HttpTransport
from connectors.marketplace.amazon import listings as mapping
from connectors.marketplace.amazon.auth import LwaAuth
from connectors.marketplace.amazon.cancellations import OrderCanceller
from connectors.marketplace.amazon.client import SpApiClient, classify, observe
from connectors.marketplace.amazon.definitions import DefinitionsApi, ProductTypeDefinition, ProductTypeMatch
from connectors.marketplace.amazon.feeds import FeedMessage, FeedRunner
from connectors.marketplace.amazon.limits import MAX_LISTINGS_PAGE
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.amazon.orders import OrdersApi
from connectors.marketplace.amazon.patches import patch_quantities
from connectors.marketplace.amazon.pricing import CatalogMatch, FeeEstimate, PricingApi
from connectors.marketplace.amazon.webhooks import parse_notification, verify_signature
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.types import (
    BulkResult,
    CompetitivePrice,
    ListingDraft,
    ListingResult,
    ListingsPage,
    Order,
    OrdersPage,
    PriceUpdate,
    ProductIdentifier,
    QuantityUpdate,
    WebhookEvent,
)
from connectors.ratelimit import RateLimiterRegistry

# What the local sandbox accepts (sandboxes/amazon uses the same values). Not secrets: sandbox-only.
SANDBOX_CREDENTIALS: dict[str, str] = {
    "client_id": "amzn1.application-oa2-client.merchflowsandbox",
    "client_secret": "merchflow-sandbox-client-secret",
    "refresh_token": "Atzr|merchflow-sandbox-refresh-token",
    "seller_id": "A2MERCHFLOWSBX",
    "relay_secret": "merchflow-sandbox-relay-secret",
}
# The sandbox's SP-API application (website authorization workflow); its LWA client is the one above.
SANDBOX_APPLICATION_ID = "amzn1.sp.solution.merchflow-sandbox"


class AmazonMarketplace:
    marketplace = "amazon"

    def __init__(
        self,
        cfg: AccountConfig,
        limiter: RateLimiterRegistry,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.cfg = cfg
        self.account = cfg.name
        self.options = AmazonOptions.model_validate(cfg.options)
        seller = self.options.seller_id or (
            cfg.credentials["seller_id"].get_secret_value() if "seller_id" in cfg.credentials else None
        )
        if not seller:
            raise KeyError(
                f"amazon account {cfg.name!r}: set the 'seller_id' account option (merchant token)"
            )
        self.seller_id = seller
        self.max_batch = self.options.feed_max_messages
        self.http = HttpTransport(
            marketplace="amazon",
            account=cfg.name,
            base_url=cfg.base_url,
            timeout=self.options.timeout_seconds or cfg.timeout_seconds,
            max_retries=self.options.max_retries,
            classify=classify,
            observe=observe,
            user_agent=cfg.user_agent,
            transport=transport,
        )
        self.lwa = LwaAuth(
            self.http,
            token_url=self.options.token_url(cfg.base_url),
            client_id=cfg.secret("client_id"),
            client_secret=SecretStr(cfg.secret("client_secret")),
            refresh_token=SecretStr(cfg.secret("refresh_token")),
            margin_seconds=self.options.token_refresh_margin_seconds,
        )
        self.api = SpApiClient(http=self.http, lwa=self.lwa, limiter=limiter, account=cfg.name)
        self.feeds = FeedRunner(self.api, self.options, self.seller_id)
        self.pricing = PricingApi(self.api, self.options, self.seller_id)
        self.definitions = DefinitionsApi(self.api, self.options)
        self.orders = OrdersApi(self.api, self.options, cfg.name)
        self.canceller = OrderCanceller(self.api, self.feeds, self.seller_id)

    @classmethod
    def from_config(cls, cfg: AccountConfig, limiter: RateLimiterRegistry) -> Self:
        return cls(cfg, limiter)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _item_path(self, sku: str) -> str:
        return f"/listings/2021-08-01/items/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}"

    # ---- reading listings ----------------------------------------------------------------------------------------
    async def list_listings(self, cursor: str | None = None, *, page_size: int | None = None) -> ListingsPage:
        if self.options.listings_source == "fba_inventory":
            return await self.list_fba_inventory(cursor)
        params: dict[str, Any] = {
            "marketplaceIds": self.options.marketplace_id,
            "includedData": mapping.SNAPSHOT_DATA,
            "pageSize": min(page_size or MAX_LISTINGS_PAGE, MAX_LISTINGS_PAGE),
            # sorted by SKU: a stable order, so listings updated while we page neither vanish nor repeat
            "sortBy": "sku",
            "sortOrder": "ASC",
            "pageToken": cursor,
        }
        r = await self.api.call(
            "searchListingsItems", "GET", f"/listings/2021-08-01/items/{quote(self.seller_id)}", params=params
        )
        body = r.json()
        return ListingsPage(
            items=[mapping.snapshot(item, self.options) for item in body.get("items") or []],
            next_cursor=(body.get("pagination") or {}).get("nextToken"),
        )

    async def list_catalog(
        self, cursor: str | None = None, *, page_size: int | None = None, on_wait: WaitCallback | None = None
    ) -> ListingsPage:
        from connectors.marketplace.amazon.catalog_read import list_catalog

        return await list_catalog(self, cursor, page_size)

    async def list_fba_inventory(self, cursor: str | None = None) -> ListingsPage:
        """FBA Inventory getInventorySummaries: 50 summaries per page; nextToken lives ~30 s, so page promptly."""
        params = {
            "details": "true",
            "granularityType": "Marketplace",
            "granularityId": self.options.marketplace_id,
            "marketplaceIds": self.options.marketplace_id,
            "nextToken": cursor,
        }
        body = (
            await self.api.call("getInventorySummaries", "GET", "/fba/inventory/v1/summaries", params=params)
        ).json()
        summaries = (body.get("payload") or {}).get("inventorySummaries") or []
        return ListingsPage(
            items=[mapping.fba_snapshot(s) for s in summaries],
            next_cursor=(body.get("pagination") or {}).get("nextToken"),
        )

    async def get_listing(self, sku: str) -> dict[str, Any] | None:
        """getListingsItem with the data sets a snapshot needs; None when Amazon has no such listing."""
        r = await self.api.call(
            "getListingsItem",
            "GET",
            self._item_path(sku),
            params={
                "marketplaceIds": self.options.marketplace_id,
                "includedData": mapping.SNAPSHOT_DATA + ",issues",
            },
            expected=(404,),
        )
        return None if r.status_code == 404 else r.json()

    # ---- bulk writes through feeds -------------------------------------------------------------------------------
    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        latest = {u.sku: u.quantity for u in updates}  # absolute values: for a repeated SKU the last one wins
        if 0 < len(latest) <= self.options.quantity_patch_max_skus:  # an order push: seconds, not a feed
            outcomes = await patch_quantities(
                self.api, self.options, self._item_path, latest, idempotency_key
            )
            return BulkResult(outcomes=outcomes)
        messages = [
            FeedMessage(sku, "fulfillment_availability", mapping.quantity_value(q, self.options), q)
            for sku, q in latest.items()
        ]
        return await self._feed(messages, idempotency_key, on_wait)

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        latest = {u.sku: u for u in updates}
        messages = [
            FeedMessage(
                u.sku,
                "purchasable_offer",
                mapping.price_value(u.price, u.currency, self.options),
                (u.price, u.currency),
            )
            for u in latest.values()
        ]
        return await self._feed(messages, idempotency_key, on_wait)

    async def _feed(
        self, messages: list[FeedMessage], idempotency_key: str, on_wait: WaitCallback | None
    ) -> BulkResult:
        if not messages:
            return BulkResult(outcomes=[])
        return await self.feeds.run(messages, idempotency_key=idempotency_key, on_wait=on_wait)

    # ---- single listings -----------------------------------------------------------------------------------------
    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        body = {
            "productType": draft.product_type or self.options.default_product_type,
            "requirements": "LISTING",
            "attributes": mapping.draft_attributes(draft, self.options),
        }
        r = await self.api.call(
            "putListingsItem",
            "PUT",
            self._item_path(draft.sku),
            params={"marketplaceIds": self.options.marketplace_id},
            json=body,
            idempotency_key=idempotency_key,
        )
        return await self._submission(draft.sku, r.json(), expect=draft)

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        """PATCH (replace) the draft's attributes only: attributes set elsewhere (Seller Central) are kept."""
        attrs = mapping.draft_attributes(draft, self.options)
        body = {
            "productType": draft.product_type or self.options.default_product_type,
            "patches": [{"op": "replace", "path": f"/attributes/{k}", "value": v} for k, v in attrs.items()],
        }
        r = await self.api.call(
            "patchListingsItem",
            "PATCH",
            self._item_path(draft.sku),
            params={"marketplaceIds": self.options.marketplace_id},
            json=body,
            idempotency_key=idempotency_key,
        )
        return await self._submission(draft.sku, r.json(), expect=draft)

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult:
        r = await self.api.call(
            "deleteListingsItem",
            "DELETE",
            self._item_path(sku),
            params={"marketplaceIds": self.options.marketplace_id},
            idempotency_key=idempotency_key,
        )
        return await self._submission(sku, r.json(), expect=None)

    async def _submission(
        self, sku: str, body: dict[str, Any], *, expect: ListingDraft | None
    ) -> ListingResult:
        """ACCEPTED only means "queued": unless confirmation is off, re-read the listing before calling it applied."""
        errors = [i for i in body.get("issues") or [] if i.get("severity") == "ERROR"]
        if body.get("status") == "INVALID" or errors:
            first = errors[0] if errors else {}
            return ListingResult(
                sku=sku,
                status="rejected",
                code=first.get("code"),
                message="; ".join(i.get("message", "") for i in errors) or "INVALID",
            )
        if not self.options.confirm_listing_writes:
            return ListingResult(sku=sku, status="applied")
        item = await self.get_listing(sku)
        if expect is None:
            ok = item is None
        else:
            snap = mapping.snapshot(item, self.options) if item else None
            ok = snap is not None and snap.price == expect.price and snap.quantity == expect.quantity
        if ok:
            asin = mapping.snapshot(item, self.options).external_id if item else None
            return ListingResult(sku=sku, status="applied", external_id=asin)
        return ListingResult(
            sku=sku,
            status="failed",
            code="NOT_CONFIRMED",
            message=f"accepted (submission {body.get('submissionId')}) but not visible yet",
        )

    # ---- orders, prices, webhooks --------------------------------------------------------------------------------
    async def list_orders(self, cursor: str | None = None) -> OrdersPage:
        return await self.orders.page(cursor)

    async def get_order(self, order_id: str) -> Order | None:
        """One order with its lines (getOrder + getOrderItems); None when Amazon does not know it."""
        raw = await self.canceller.read(order_id)
        return None if raw is None else self.orders.order(raw, await self.orders.items(order_id))

    async def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> ListingResult:
        """An order acknowledgement feed with StatusCode Failure (connectors/marketplace/amazon/cancellations.py)."""
        return await self.canceller.cancel(order_id, reason=reason, idempotency_key=idempotency_key)

    async def competitive_prices(self, identifiers: Sequence[ProductIdentifier]) -> list[CompetitivePrice]:
        return await self.pricing.competitive_prices(identifiers)

    async def search_catalog(self, identifiers: Sequence[ProductIdentifier]) -> list[CatalogMatch]:
        return await self.pricing.search_catalog(identifiers)

    async def search_product_types(
        self, *, keywords: list[str] | None = None, item_name: str | None = None
    ) -> list[ProductTypeMatch]:
        """searchDefinitionsProductTypes: Amazon's product types for keywords or an item name, best first."""
        return await self.definitions.search(keywords=keywords, item_name=item_name)

    async def product_type_definition(self, product_type: str) -> ProductTypeDefinition:
        """getDefinitionsProductType (LISTING requirements) with its JSON Schema document."""
        return await self.definitions.definition(product_type)

    async def fees_estimate(self, **kwargs: Any) -> FeeEstimate:
        """Product Fees v0: sku= or asin=, price=, currency=, shipping=, amazon_fulfilled= (see PricingApi)."""
        return await self.pricing.fees_estimate(**kwargs)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        verify_signature(
            self.cfg.secret("relay_secret"), headers, body, tolerance=self.options.relay_tolerance_seconds
        )
        return parse_notification(body, account=self.account)
