"""Shopify adapter of the Marketplace port: Admin GraphQL 2025-01 at {base_url}/admin/api/2025-01/graphql.json.

Account options (all optional): location_id (gid or number; default the shop's primary location), quantities_per_call
(250), concurrency (4), inventory_reason ("correction"), bucket_size / restore_rate (1000 / 100, standard plan;
learned from throttleStatus anyway), max_retries (4). Credentials: access_token and / or client_id + client_secret
(client credentials grant, refreshed on expiry), webhook_secret (defaults to client_secret). See README.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx

from connectors.errors import NonRetryableError, WebhookRejected
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify import listings, mapping
from connectors.marketplace.shopify.catalog import Catalog
from connectors.marketplace.shopify.client import ShopifyGraphQL
from connectors.marketplace.shopify.inventory import MAX_INT32, QuantityWriter, _Item
from connectors.marketplace.shopify.prices import PriceWriter
from connectors.marketplace.types import (
    BulkResult,
    CompetitivePrice,
    ItemOutcome,
    ListingDraft,
    ListingResult,
    ListingsPage,
    OrdersPage,
    PriceUpdate,
    ProductIdentifier,
    QuantityUpdate,
    WebhookEvent,
)
from connectors.ratelimit import RateLimiterRegistry

# What the local sandbox accepts (client credentials grant); not secret.
SANDBOX_CREDENTIALS: dict[str, str] = {
    "client_id": "merchflow-sandbox-client-id",
    "client_secret": "merchflow-sandbox-client-secret",
}
MAX_LISTINGS_PAGE = (
    1000 - docs.LISTINGS.cost
) // docs.LISTINGS.node_cost  # one page must fit the 1,000-point cap
INVENTORY_ITEM_GID = "gid://shopify/InventoryItem/"
ORDERS_PAGE = 25  # 25 orders x (1 + 10 line items x 3) + 2 = 827 points
WEBHOOK_KINDS = {
    "orders/create": "order_created",
    "orders/updated": "order_updated",
    "orders/cancelled": "order_cancelled",
    "inventory_levels/update": "quantity_changed",
}
CANCEL_REASONS = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"}


class ShopifyMarketplace:
    marketplace = "shopify"

    def __init__(
        self,
        cfg: AccountConfig,
        limiter: RateLimiterRegistry,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.cfg = cfg
        self.account = cfg.name
        opts = cfg.options
        self.max_batch = int(opts.get("quantities_per_call", 250))
        self.concurrency = int(opts.get("concurrency", 4))
        self.gql = ShopifyGraphQL(cfg, limiter, transport=transport)
        self.catalog = Catalog(self.gql)
        loc = opts.get("location_id")
        self._location: str | None = (
            f"gid://shopify/Location/{loc}" if loc and not str(loc).startswith("gid://") else loc
        )
        self._currency: str | None = opts.get("currency")
        self._reason = str(opts.get("inventory_reason", "correction"))
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it forward

    @classmethod
    def from_config(
        cls,
        cfg: AccountConfig,
        limiter: RateLimiterRegistry,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Self:
        return cls(cfg, limiter, transport=transport)

    async def aclose(self) -> None:
        await self.gql.aclose()

    async def _shop(self) -> tuple[str, str]:
        """(location gid, shop currency), asked once: the primary location unless the account names one."""
        if self._location is None or self._currency is None:
            data = await self.gql.execute(docs.SHOP)
            self._currency = self._currency or data["shop"]["currencyCode"]
            self._location = self._location or (data.get("location") or {}).get("id")
            if self._location is None:
                raise NonRetryableError("the shop has no location", marketplace="shopify")
        return self._location, self._currency

    # ---- listings ------------------------------------------------------------------------------------------------
    async def list_listings(self, cursor: str | None = None, *, page_size: int | None = None) -> ListingsPage:
        location, currency = await self._shop()
        first = max(1, min(page_size or MAX_LISTINGS_PAGE, MAX_LISTINGS_PAGE))
        data = await self.gql.execute(
            docs.LISTINGS,
            {"first": first, "after": cursor, "locationId": location},
            cost=docs.LISTINGS.estimate(first),
        )
        conn = data["productVariants"]
        items = []
        for node in conn["nodes"]:
            snap = mapping.listing(node, currency, location)
            items.append(snap)
            listings.remember_snapshot(self.catalog, snap)
        info = conn["pageInfo"]
        return ListingsPage(items=items, next_cursor=info["endCursor"] if info["hasNextPage"] else None)

    async def list_catalog(
        self, cursor: str | None = None, *, page_size: int | None = None, on_wait: WaitCallback | None = None
    ) -> ListingsPage:
        """Every variant through one bulk operation (see bulk.py), read back in pages of JSON lines."""
        from connectors.marketplace.shopify.bulk import list_catalog

        page = await list_catalog(self, cursor, page_size, on_wait)
        for snap in page.items:
            listings.remember_snapshot(self.catalog, snap)
        return page

    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        location, currency = await self._shop()
        return await listings.create(self.gql, self.catalog, draft, location, currency, idempotency_key)

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        _, currency = await self._shop()
        return await listings.update(self.gql, self.catalog, draft, currency, idempotency_key)

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult:
        return await listings.end(self.gql, self.catalog, sku, idempotency_key)

    # ---- bulk quantities and prices -----------------------------------------------------------------------------
    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        location, _ = await self._shop()
        outcomes: dict[int, ItemOutcome] = {}
        last = {u.sku: n for n, u in enumerate(updates)}
        todo: list[tuple[int, QuantityUpdate]] = []
        for n, u in enumerate(updates):
            if last[u.sku] != n:
                outcomes[n] = ItemOutcome(sku=u.sku, status="rejected", code="DUPLICATE_IN_REQUEST",
                                          message="a later update of the same SKU in this call wins")  # fmt: skip
            elif u.quantity > MAX_INT32:
                outcomes[n] = ItemOutcome(sku=u.sku, status="rejected", code="INVALID_QUANTITY_TOO_HIGH",
                                          message="quantity out of range")  # fmt: skip
            else:
                todo.append((n, u))
        items: list[_Item] = []
        lookup = []
        for n, u in todo:
            if u.external_variant_id and u.external_variant_id.startswith(INVENTORY_ITEM_GID):
                items.append(_Item(n, u, u.external_variant_id))  # type: ignore[arg-type]
            elif u.sku in self.catalog.by_sku:
                items.append(_Item(n, u, self.catalog.by_sku[u.sku].inventory_item_id))
            else:
                lookup.append((n, u))
        if lookup:
            refs = await self.catalog.resolve((u.sku, u.external_variant_id) for _, u in lookup)
            for n, u in lookup:
                if u.sku in refs:
                    items.append(_Item(n, u, refs[u.sku].inventory_item_id))
                else:
                    outcomes[n] = _unknown(u.sku, self.catalog)
        writer = QuantityWriter(self.gql, location_id=location, chunk_size=self.max_batch,
                                concurrency=self.concurrency, reason=self._reason, on_wait=on_wait)  # fmt: skip
        outcomes.update(await writer.write(items, idempotency_key))
        return BulkResult(outcomes=[outcomes[n] for n in range(len(updates))])

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        _, currency = await self._shop()
        writer = PriceWriter(
            self.gql, self.catalog, currency=currency, concurrency=self.concurrency, on_wait=on_wait
        )
        return await writer.write(updates, idempotency_key)

    # ---- orders --------------------------------------------------------------------------------------------------
    async def list_orders(self, cursor: str | None = None) -> OrdersPage:
        cur = mapping.OrdersCursor.decode(cursor)
        data = await self.gql.execute(
            docs.ORDERS,
            {"first": ORDERS_PAGE, "after": cur.after, "query": cur.query()},
            cost=docs.ORDERS.estimate(ORDERS_PAGE),
        )
        conn = data["orders"]
        settled = mapping.shopify_time(self.clock() - timedelta(seconds=mapping.SETTLE_SECONDS))
        orders = []
        for node in conn["nodes"]:
            updated = mapping.shopify_time(mapping.parse_time(node["updatedAt"]))
            if cur.accept(node["id"], updated, settled):
                orders.append(mapping.order(node, self.account, await self._all_lines(node)))
        if conn["pageInfo"]["hasNextPage"]:
            cur.after = conn["pageInfo"]["endCursor"]
            return OrdersPage(orders=orders, next_cursor=cur.encode(), has_more=True)
        return OrdersPage(orders=orders, next_cursor=cur.finish().encode(), has_more=False)

    async def _all_lines(self, node: dict[str, Any]) -> list[Any]:
        conn = node["lineItems"]
        nodes = list(conn["nodes"])
        while conn["pageInfo"]["hasNextPage"]:
            data = await self.gql.execute(
                docs.ORDER_LINES, {"id": node["id"], "after": conn["pageInfo"]["endCursor"]}
            )
            conn = data["order"]["lineItems"]
            nodes += conn["nodes"]
        return mapping.order_lines(nodes)

    async def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> ListingResult:
        gid = order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"
        enum = reason.upper() if reason.upper() in CANCEL_REASONS else "OTHER"
        data = await self.gql.execute(
            docs.ORDER_CANCEL,
            {"orderId": gid, "reason": enum, "staffNote": reason[:255]},
            idempotency_key=idempotency_key,
        )
        errors = (data.get("orderCancel") or {}).get("orderCancelUserErrors") or []
        if errors:
            e = errors[0]
            if e.get("code") == "INVALID" and "already" in str(e.get("message", "")).lower():
                return ListingResult(
                    sku=order_id, status="applied", external_id=gid, code="ALREADY_CANCELLED"
                )
            return ListingResult(sku=order_id, status="rejected", external_id=gid, code=e.get("code"),
                                 message=e.get("message"))  # fmt: skip
        return ListingResult(sku=order_id, status="applied", external_id=gid)

    # ---- competitive prices ----------------------------------------------------------------------------------------
    async def competitive_prices(self, identifiers: Sequence[ProductIdentifier]) -> list[CompetitivePrice]:
        """Shopify is the seller's own storefront: there are no other sellers' offers to read, so always []."""
        return []

    # ---- webhooks --------------------------------------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        h = {k.lower(): v for k, v in headers.items()}
        secret = self._webhook_secret()
        given = h.get("x-shopify-hmac-sha256", "")
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("X-Shopify-Hmac-Sha256 does not match the body", marketplace="shopify")
        topic = h.get("x-shopify-topic", "")
        try:
            payload = json.loads(body)
            assert isinstance(payload, dict)
        except (ValueError, AssertionError):
            raise WebhookRejected("webhook body is not a JSON object", marketplace="shopify") from None
        event_id = h.get("x-shopify-webhook-id") or h.get("x-shopify-event-id")
        if not event_id:
            raise WebhookRejected("X-Shopify-Webhook-Id missing", marketplace="shopify")
        kind = WEBHOOK_KINDS.get(topic, "other")
        event = WebhookEvent(marketplace="shopify", account=self.account, event_id=event_id, kind=kind,  # type: ignore[arg-type]
                             topic=topic, payload=payload)  # fmt: skip
        if kind.startswith("order_"):
            event.order = mapping.webhook_order(payload, self.account)
        elif kind == "quantity_changed":
            item = f"gid://shopify/InventoryItem/{payload.get('inventory_item_id')}"
            event.sku = self.catalog.sku_by_item.get(item)
            event.quantity = payload.get("available")
        return event

    def _webhook_secret(self) -> str:
        for key in ("webhook_secret", "client_secret"):
            if key in self.cfg.credentials:
                return self.cfg.credentials[key].get_secret_value()
        raise WebhookRejected("no webhook_secret / client_secret configured", marketplace="shopify")


def _unknown(sku: str, catalog: Catalog) -> ItemOutcome:
    if sku in catalog.ambiguous:
        return ItemOutcome(sku=sku, status="rejected", code="DUPLICATE_SKU",
                           message="several Shopify variants carry this SKU")  # fmt: skip
    return ItemOutcome(
        sku=sku, status="rejected", code="UNKNOWN_SKU", message="no Shopify variant has this SKU"
    )


__all__ = ["SANDBOX_CREDENTIALS", "ShopifyMarketplace"]
