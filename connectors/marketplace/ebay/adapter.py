"""The eBay adapter of the Marketplace port (Sell Inventory API; Fulfillment, Browse, Taxonomy and Post-Order for
the rest).

Account options (all optional): marketplace_id (EBAY_US), content_language (en-US), token_url, scopes,
merchant_location_key, category_id, fulfillment_policy_id / payment_policy_id / return_policy_id, concurrency (8
bulk calls in flight), page_size (100), listing_prices (true: list_listings also reads each SKU's offer for its
price), daily_limits ({api: calls/day}), orders_lookback_days (30), orders_settle_seconds (2), browse_limit (10), seller_username (left out of
competitive prices), notification_public_keys ({kid: PEM}), notification_endpoint. Credentials: client_id,
client_secret, refresh_token, verification_token (notifications), notification_public_keys (JSON, optional).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx
import structlog
from pydantic import SecretStr

from connectors.errors import AuthError, ConnectorError, NotFoundError, ValidationError
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.ebay import mapping
from connectors.marketplace.ebay.client import EbayClient
from connectors.marketplace.ebay.errors import (
    OFFER_EXISTS,
    classify,
    error_list,
    error_outcome,
    error_parameter,
    outcomes_for_chunk,
)
from connectors.marketplace.ebay.limits import MAX_BULK
from connectors.marketplace.ebay.listings import ListingOps
from connectors.marketplace.ebay.orders import OrdersCursor
from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS
from connectors.marketplace.ebay.taxonomy import CategorySuggestion, GtinListing, Taxonomy, gtin_listings
from connectors.marketplace.ebay.webhooks import challenge_response, parse_event, verify_signature
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.types import (
    BulkResult,
    CompetitivePrice,
    ItemOutcome,
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

__all__ = ["SANDBOX_CREDENTIALS", "EbayMarketplace"]

log = structlog.get_logger("connectors.ebay")
GTIN_TYPES = ("upc", "ean", "isbn", "gtin")
SELLER_CANCEL_REASONS = ("OUT_OF_STOCK_OR_CANNOT_FULFILL", "BUYER_ASKED_CANCEL", "ADDRESS_ISSUES")


class EbayMarketplace(ListingOps):
    marketplace = "ebay"
    max_batch = MAX_BULK

    def __init__(
        self,
        *,
        account: str,
        base_url: str,
        credentials: Mapping[str, SecretStr],
        options: Mapping[str, Any] | None = None,
        limiter: RateLimiterRegistry,
        timeout: float = 30.0,
        user_agent: str = "merchflow/0.1",
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.account = account
        self.options = dict(options or {})
        self.client = EbayClient(
            account=account,
            base_url=base_url,
            credentials=credentials,
            options=self.options,
            limiter=limiter,
            timeout=timeout,
            user_agent=user_agent,
            http_transport=http_transport,
        )
        self.page_size = int(self.options.get("page_size", 100))
        self.taxonomy = Taxonomy(self.client)
        self._sem = asyncio.Semaphore(int(self.options.get("concurrency", 8)))
        self._offer_ids: dict[str, str] = {}  # sku -> offerId, learnt from getOffers / createOffer
        configured = self.options.get("notification_public_keys") or {}
        keys = dict(json.loads(configured) if isinstance(configured, str) else configured)
        if "notification_public_keys" in credentials:
            keys.update(json.loads(credentials["notification_public_keys"].get_secret_value()))
        self._public_keys: dict[str, str] = keys
        self._verification_token = credentials.get("verification_token")
        seller = credentials.get("seller_username")
        self._seller_username = seller.get_secret_value() if seller else None

    @classmethod
    def from_config(cls, cfg: AccountConfig, limiter: RateLimiterRegistry, **kwargs: Any) -> Self:
        return cls(
            account=cfg.name,
            base_url=cfg.base_url,
            credentials=cfg.credentials,
            options=cfg.options,
            limiter=limiter,
            timeout=cfg.timeout_seconds,
            user_agent=cfg.user_agent,
            **kwargs,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- listings ---------------------------------------------------------------------------------------------
    async def list_listings(self, cursor: str | None = None, *, page_size: int | None = None) -> ListingsPage:
        params = mapping.cursor_params(cursor, page_size, self.page_size)
        body = await self.client.get_inventory_items(params)
        items = body.get("inventoryItems") or []
        offers: dict[str, dict[str, Any]] = {}
        if self.options.get("listing_prices", True) and items:
            offers = await self._first_offers([str(i.get("sku")) for i in items])
        return ListingsPage(
            items=[mapping.snapshot(i, offers.get(str(i.get("sku")))) for i in items],
            next_cursor=mapping.page_cursor(body.get("next")) if items else None,
        )

    async def list_catalog(
        self, cursor: str | None = None, *, page_size: int | None = None, on_wait: WaitCallback | None = None
    ) -> ListingsPage:
        from connectors.marketplace.ebay.catalog_read import list_catalog

        return await list_catalog(self, cursor, page_size)

    async def _first_offers(self, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
        """getOffers per SKU (eBay has no multi-SKU offer read), at most `concurrency` in flight."""

        async def one(sku: str) -> tuple[str, dict[str, Any] | None]:
            async with self._sem:
                offers = await self.client.get_offers(sku)
            if offers and offers[0].get("offerId"):
                self._offer_ids[sku] = str(offers[0]["offerId"])
            return sku, (offers[0] if offers else None)

        return {sku: o for sku, o in await asyncio.gather(*(one(s) for s in skus)) if o is not None}

    # ---- bulk price / quantity --------------------------------------------------------------------------------
    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        latest = {
            u.sku: u for u in updates
        }  # the last word on a SKU wins; eBay refuses duplicates in one call
        requests = [
            {"sku": u.sku, "shipToLocationAvailability": {"quantity": u.quantity}} for u in latest.values()
        ]
        return await self._bulk_price_quantity(requests, idempotency_key)

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        latest = {u.sku: u for u in updates}
        missing = [sku for sku, u in latest.items() if not (u.external_id or self._offer_ids.get(sku))]
        if missing:
            await self._first_offers(missing)
        requests, orphans = [], []
        for sku, u in latest.items():
            offer_id = u.external_id or self._offer_ids.get(sku)
            if offer_id is None:
                orphans.append(
                    ItemOutcome(sku=sku, status="rejected", code="no_offer", message="SKU has no offer")
                )
                continue
            requests.append(
                {"sku": sku, "offers": [{"offerId": offer_id, "price": mapping.money(u.price, u.currency)}]}
            )
        result = await self._bulk_price_quantity(requests, idempotency_key)
        return BulkResult(outcomes=orphans + result.outcomes, submission_ids=result.submission_ids)

    async def _bulk_price_quantity(self, requests: list[dict[str, Any]], key: str) -> BulkResult:
        chunks = [requests[i : i + MAX_BULK] for i in range(0, len(requests), MAX_BULK)]
        results = await asyncio.gather(
            *(
                self._chunk(self.client.bulk_update_price_quantity, c, f"{key}:{n}")
                for n, c in enumerate(chunks)
            )
        )
        return BulkResult(outcomes=[o for chunk in results for o in chunk])

    async def _chunk(self, send: Any, chunk: list[dict[str, Any]], key: str) -> list[ItemOutcome]:
        skus = [str(r["sku"]) for r in chunk]
        async with self._sem:
            try:
                response = await send(chunk, key)
            except AuthError:
                raise  # every chunk would fail the same way: let the activity fail loudly
            except ConnectorError as err:
                log.warning("ebay bulk chunk failed", account=self.account, skus=len(skus), code=err.code)
                return [error_outcome(sku, err) for sku in skus]
        return outcomes_for_chunk(skus, response.json().get("responses") or [])

    async def bulk_create_or_replace_items(
        self, drafts: Sequence[ListingDraft], *, idempotency_key: str
    ) -> BulkResult:
        """Extra (not on the port): create / replace up to thousands of inventory items, 25 per call. Items only:
        publishing still needs an offer per SKU (create_listing)."""
        locale = self.client.content_language.replace("-", "_")
        requests = [
            {"sku": d.sku, "locale": locale, **mapping.inventory_item_body(d)}
            for d in {d.sku: d for d in drafts}.values()
        ]
        chunks = [requests[i : i + MAX_BULK] for i in range(0, len(requests), MAX_BULK)]
        results = await asyncio.gather(
            *(
                self._chunk(self.client.bulk_create_or_replace, c, f"{idempotency_key}:{n}")
                for n, c in enumerate(chunks)
            )
        )
        return BulkResult(outcomes=[o for chunk in results for o in chunk])

    # ---- orders -----------------------------------------------------------------------------------------------
    async def list_orders(self, cursor: str | None = None) -> OrdersPage:
        """Fulfillment API getOrders over a closed window per sweep (connectors/marketplace/ebay/orders.py). Not covered
        by a contract test: its spec is not in ../shared/specs."""
        now = datetime.now(UTC)
        if cursor:
            c = OrdersCursor.decode(cursor)
        else:
            c = OrdersCursor(since=now - timedelta(days=int(self.options.get("orders_lookback_days", 30))))
        if c.until is None:
            c = c.start(now - timedelta(seconds=float(self.options.get("orders_settle_seconds", 2))))
        for _ in range(3):  # the window changed since the last page: read again from the realigned offset
            body = await self._orders_window(c)
            total = int(body.get("total") or 0)
            moved = c.realign(total)
            if moved is None:
                orders = [mapping.order_from_ebay(o, self.account) for o in body.get("orders") or []]
                nxt = c.after(len(orders), total)
                return OrdersPage(orders=orders, next_cursor=nxt.encode(), has_more=nxt.until is not None)
            c = moved
        return OrdersPage(
            orders=[], next_cursor=c.encode(), has_more=True
        )  # still moving: the next page tries again

    async def _orders_window(self, c: OrdersCursor) -> dict[str, Any]:
        assert c.until is not None
        return await self.client.get_orders(
            {
                "filter": f"lastmodifieddate:[{mapping.ebay_time(c.since)}..{mapping.ebay_time(c.until)}]",
                "limit": str(int(self.options.get("orders_page_size", 100))),
                "offset": str(c.offset),
            }
        )

    async def get_order(self, order_id: str) -> Order | None:
        """Extra (not on the port): one order with all its lines (Fulfillment getOrders?orderIds=), for webhooks
        that carry ids only. None when eBay does not know it."""
        body = await self.client.get_orders({"orderIds": order_id})
        orders = [mapping.order_from_ebay(o, self.account) for o in body.get("orders") or []]
        return next((o for o in orders if o.order_id == order_id), None)

    async def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> ListingResult:
        """Post-Order API create cancellation (seller-initiated). Not covered by a contract test (no spec here)."""
        cancel_reason = (
            reason.upper() if reason.upper() in SELLER_CANCEL_REASONS else SELLER_CANCEL_REASONS[0]
        )
        body = {"legacyOrderId": order_id, "cancelReason": cancel_reason, "buyerPaid": True}
        try:
            answer = await self.client.create_cancellation(body, idempotency_key)
        except (ValidationError, NotFoundError) as err:
            return ListingResult(sku=order_id, status="rejected", code=err.code, message=err.message)
        if answer.get("cancelId"):
            return ListingResult(sku=order_id, status="applied", external_id=str(answer["cancelId"]))
        why = (answer.get("orderEligibilityResult") or {}).get("failureReason") or ["not eligible"]
        return ListingResult(
            sku=order_id, status="rejected", code="not_eligible", message=", ".join(map(str, why))
        )

    # ---- competitive prices -----------------------------------------------------------------------------------
    async def competitive_prices(self, identifiers: Sequence[ProductIdentifier]) -> list[CompetitivePrice]:
        """Browse API item_summary/search?gtin=...: other sellers' live offers for the same product. Only GTINs
        (UPC / EAN / ISBN) can be searched exactly; ASIN / MPN / SKU identifiers are skipped (no exact search)."""
        limit = str(int(self.options.get("browse_limit", 10)))
        own = self.options.get("seller_username") or self._seller_username

        async def one(ident: ProductIdentifier) -> list[CompetitivePrice]:
            if ident.type not in GTIN_TYPES:
                return []
            async with self._sem:
                try:
                    body = await self.client.search_items(
                        {"gtin": ident.value, "limit": limit, "sort": "price"}
                    )
                except ValidationError as err:
                    log.info("ebay browse refused identifier", code=err.code, kind=ident.type)
                    return []
            return mapping.competitive_prices(ident, body.get("itemSummaries") or [], exclude_seller=own)

        results = await asyncio.gather(*(one(i) for i in identifiers))
        return [p for r in results for p in r]

    # ---- catalog-side reads for new listings ------------------------------------------------------------------
    async def listings_by_gtin(self, gtin: str) -> list[GtinListing]:
        """Browse item_summary/search?gtin=: what other sellers' live listings of this GTIN call it, and where."""
        own = self.options.get("seller_username") or self._seller_username
        limit = str(int(self.options.get("browse_limit", 10)))
        async with self._sem:
            try:
                body = await self.client.search_items({"gtin": gtin, "limit": limit})
            except ValidationError as err:
                log.info("ebay browse refused identifier", code=err.code)
                return []
        return gtin_listings(body, exclude_seller=own)

    async def category_suggestions(self, query: str) -> list[CategorySuggestion]:
        """Taxonomy getCategorySuggestions on the marketplace's default category tree, best first."""
        return await self.taxonomy.suggestions(query)

    async def category_aspects(self, category_id: str) -> dict[str, Any]:
        """Taxonomy getItemAspectsForCategory: the aspects document the requirement check reads."""
        return await self.taxonomy.aspects(category_id)

    # ---- notifications ----------------------------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        verify_signature(headers, body, self._public_keys)
        return parse_event(body, self.account)

    def challenge_response(self, challenge_code: str, endpoint: str | None = None) -> dict[str, str]:
        """Body for eBay's endpoint-validation GET: {"challengeResponse": sha256(code + token + endpoint)}."""
        if self._verification_token is None:
            raise KeyError("credential 'verification_token' missing for eBay notifications")
        url = endpoint or str(self.options.get("notification_endpoint") or "")
        if not url:
            raise KeyError("account option 'notification_endpoint' (the URL registered with eBay) missing")
        token = self._verification_token.get_secret_value()
        return {"challengeResponse": challenge_response(challenge_code, token, url)}

    # ---- used by ListingOps -----------------------------------------------------------------------------------
    async def _create_offer(self, body: dict[str, Any], key: str) -> str:
        response = await self.client.create_offer(body, key)
        if response.status_code == 400:
            for e in error_list(response.json()):
                existing = error_parameter(e, "offerId")
                if e.get("errorId") == OFFER_EXISTS and existing:
                    return existing  # created by an earlier attempt whose answer we never saw
            raise classify(response, "createOffer")
        return str(response.json()["offerId"])
