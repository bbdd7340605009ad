"""WooCommerceMarketplace: the Marketplace port over the WooCommerce REST API v3 (/wp-json/wc/v3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
import structlog

from connectors.errors import AuthError, ConnectorError, NotFoundError, ValidationError
from connectors.http import HttpTransport
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.port import WaitCallback
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
from connectors.marketplace.woocommerce import mapping as m
from connectors.marketplace.woocommerce.auth import WooAuth
from connectors.marketplace.woocommerce.bulk import MAX_BATCH, BatchWriter
from connectors.marketplace.woocommerce.client import WooClient, classify
from connectors.marketplace.woocommerce.listings import list_listings
from connectors.marketplace.woocommerce.options import WooOptions
from connectors.marketplace.woocommerce.orders import list_orders
from connectors.marketplace.woocommerce.skus import Ref, SkuIndex
from connectors.marketplace.woocommerce.webhooks import verify
from connectors.ratelimit import RateLimiterRegistry

log = structlog.get_logger("connectors.woocommerce")

# The non-secret keys the local sandbox accepts (sandboxes/woocommerce/auth.py holds the same literals).
SANDBOX_CREDENTIALS: dict[str, str] = {
    "consumer_key": "ck_5a4db1e0c2f34f0e9d6b7a8c1e2f3a4b5c6d7e8f",
    "consumer_secret": "cs_0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4",
    "webhook_secret": "merchflow-sandbox-woocommerce-webhook-secret",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "testserver"}


class WooCommerceMarketplace:
    marketplace = "woocommerce"
    max_batch = MAX_BATCH

    def __init__(self, cfg: AccountConfig, client: WooClient, opts: WooOptions) -> None:
        self.account = cfg.name
        self.cfg = cfg
        self.opts = opts
        self.client = client
        self.skus = SkuIndex(client, concurrency=opts.concurrency)
        self.writer = BatchWriter(client, self.skus, batch_size=opts.batch_size, concurrency=opts.concurrency)

    @classmethod
    def from_config(
        cls,
        cfg: AccountConfig,
        limiter: RateLimiterRegistry,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Self:
        opts = WooOptions.model_validate(cfg.options)
        url = urlsplit(cfg.base_url)
        if url.scheme != "https" and url.hostname not in LOOPBACK and not opts.allow_insecure_http:
            raise ValueError(
                f"WooCommerce account {cfg.name!r}: consumer keys are only accepted over HTTPS ({cfg.base_url!r})"
            )
        auth = WooAuth(cfg.credentials["consumer_key"], cfg.credentials["consumer_secret"], opts.auth)
        http = HttpTransport(
            marketplace="woocommerce",
            account=cfg.name,
            base_url=cfg.base_url.rstrip("/"),
            timeout=cfg.timeout_seconds,
            max_retries=opts.max_retries,
            max_connections=max(8, 2 * opts.concurrency),
            classify=classify,
            user_agent=cfg.user_agent,
            transport=transport,
        )
        rate = opts.rate_per_second if opts.rate_per_second > 0 else math.inf
        bucket = limiter.bucket("woocommerce", cfg.name, "rest", rate=rate, burst=opts.rate_burst)
        return cls(cfg, WooClient(http, auth, bucket), opts)

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- listings ----------------------------------------------------------------------------------------------
    async def list_listings(self, cursor: str | None = None, *, page_size: int | None = None) -> ListingsPage:
        """Sellable SKUs page by page: simple products, and the variations of variable products (parents, which
        Woo never sells directly, and products without a SKU are left out). Ordered by id, so products created while
        paging land on later pages. A cursor from `mapping.listings_cursor_since(dt)` lists changes since dt only."""
        return await list_listings(
            self.client,
            self.skus,
            cursor,
            page_size=min(MAX_BATCH, page_size or self.opts.page_size),
            currency=self.opts.currency,
            concurrency=self.opts.concurrency,
        )

    async def list_catalog(
        self, cursor: str | None = None, *, page_size: int | None = None, on_wait: WaitCallback | None = None
    ) -> ListingsPage:
        from connectors.marketplace.woocommerce.catalog_read import list_catalog

        return await list_catalog(self, cursor, page_size)

    async def resolve_skus(self, skus: Sequence[str]) -> dict[str, Ref]:
        """SKU -> product / variation ids (cached); extra to the port, for callers that want to warm the cache."""
        return await self.skus.resolve(skus)

    # ---- bulk writes -------------------------------------------------------------------------------------------
    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        # Woo has no compare-and-set on stock: expected_quantity cannot be enforced and is ignored.
        outcomes = await self.writer.write(
            updates,
            build=lambda u: {"manage_stock": True, "stock_quantity": u.quantity},
            check=_check_quantity,
            idempotency_key=idempotency_key,
            operation="stock.batch",
            on_wait=on_wait,
        )
        return BulkResult(outcomes=outcomes)

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        wrong = [u for u in updates if u.currency.upper() != self.opts.currency.upper()]
        rejected = {
            u.sku: ItemOutcome(
                sku=u.sku,
                status="rejected",
                code="currency_mismatch",
                message=f"store currency is {self.opts.currency}",
            )
            for u in wrong
        }
        # a store would not refuse a bad price but store it mangled (mapping.price_problem): never send one
        for u in updates:
            problem = m.price_problem(u.price)
            if problem and u.sku not in rejected:
                rejected[u.sku] = ItemOutcome(
                    sku=u.sku, status="rejected", code="invalid_price", message=problem
                )
        outcomes = await self.writer.write(
            [u for u in updates if u.sku not in rejected],
            build=lambda u: {"regular_price": m.price_str(u.price)},
            check=_check_price,
            idempotency_key=idempotency_key,
            operation="price.batch",
            on_wait=on_wait,
        )
        done = {o.sku: o for o in outcomes}
        return BulkResult(outcomes=[rejected.get(u.sku) or done[u.sku] for u in updates])

    # ---- single listings ---------------------------------------------------------------------------------------
    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        """POST /products. Woo has no idempotency key but SKUs are unique: a retry whose first attempt was applied
        (or a SKU that already exists) answers product_invalid_sku, and the existing product is updated instead."""
        if (problem := m.price_problem(draft.price)) is not None:
            return _invalid_price(draft.sku, problem)
        try:
            obj = await self._json(
                "POST", "/products", "products.create", m.draft_body(draft), key=idempotency_key
            )
        except ValidationError as exc:
            if exc.code != "product_invalid_sku":
                return _failed(draft.sku, exc)
            result = await self.update_listing(draft, idempotency_key=idempotency_key)
            if result.status == "applied":
                result.message = "SKU already existed: updated"
            return result
        except AuthError:
            raise
        except ConnectorError as exc:
            return _failed(draft.sku, exc)
        self.skus.remember(draft.sku, Ref.of(obj))
        return ListingResult(sku=draft.sku, status="applied", external_id=str(obj["id"]))

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        if (problem := m.price_problem(draft.price)) is not None:
            return _invalid_price(draft.sku, problem)
        ref = await self._ref(draft.sku)
        if ref is None:
            return _unknown(draft.sku)
        body = m.draft_body(draft, include_identity=ref.variation_id is None)
        body.pop("status", None)  # updating content must not republish an ended listing
        body.pop("type", None)
        try:
            await self._json(
                "PUT", f"{ref.collection}/{ref.object_id}", "products.update", body, key=idempotency_key
            )
        except AuthError:
            raise
        except ConnectorError as exc:
            return _failed(draft.sku, exc, ref)
        return ListingResult(sku=draft.sku, status="applied", external_id=str(ref.object_id))

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult:
        ref = await self._ref(sku)
        if ref is None:
            return _unknown(sku)
        path = f"{ref.collection}/{ref.object_id}"
        try:
            if self.opts.end_mode == "delete":
                try:
                    await self._json(
                        "DELETE", path, "products.delete", None, key=idempotency_key, force="true"
                    )
                except NotFoundError:
                    pass  # already gone: a retry after a lost answer
                self.skus.forget([sku])
            else:
                await self._json(
                    "PUT", path, "products.update", {"status": self.opts.end_mode}, key=idempotency_key
                )
        except AuthError:
            raise
        except ConnectorError as exc:
            return _failed(sku, exc, ref)
        return ListingResult(sku=sku, status="applied", external_id=str(ref.object_id))

    # ---- orders ------------------------------------------------------------------------------------------------
    async def list_orders(self, cursor: str | None = None) -> OrdersPage:
        """Orders changed since the cursor, oldest change first. Persist next_cursor only after processing them;
        orders changed in the last `orders_settle_seconds` show up on a later poll (webhooks are the fast path)."""
        return await list_orders(
            self.client,
            cursor,
            account=self.account,
            limit=self.opts.orders_page_size,
            settle_seconds=self.opts.orders_settle_seconds,
        )

    async def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> ListingResult:
        """PUT status=cancelled (Woo restocks the items itself). Result: sku and external_id are the order id."""
        body = {"status": "cancelled", "meta_data": [{"key": "_merchflow_cancel_reason", "value": reason}]}
        try:
            await self._json("PUT", f"/orders/{int(order_id)}", "orders.update", body, key=idempotency_key)
        except AuthError:
            raise
        except ConnectorError as exc:
            return _failed(order_id, exc)
        return ListingResult(sku=order_id, status="applied", external_id=order_id)

    async def competitive_prices(self, identifiers: Sequence[ProductIdentifier]) -> list[CompetitivePrice]:
        """A WooCommerce store is our own shop: there are no other sellers' offers to read."""
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        secret = self.cfg.credentials.get("webhook_secret")
        return verify(
            headers, body, secret=secret.get_secret_value() if secret else None, account=self.account
        )

    # ---- helpers -----------------------------------------------------------------------------------------------
    async def _ref(self, sku: str) -> Ref | None:
        return (await self.skus.resolve([sku])).get(sku)

    async def _json(self, method: str, path: str, op: str, body: Any, *, key: str, **params: Any) -> Any:
        r = await self.client.call(
            method, path, operation=op, body=body, params=params or None, idempotency_key=key
        )
        return r.json()


def _check_quantity(u: QuantityUpdate, obj: dict[str, Any]) -> tuple[str, str] | None:
    if obj.get("stock_quantity") != u.quantity:
        return "not_applied", f"stock_quantity is {obj.get('stock_quantity')!r} after the update"
    return None


def _check_price(u: PriceUpdate, obj: dict[str, Any]) -> tuple[str, str] | None:
    if m.money(obj.get("regular_price")) != u.price:
        return "not_applied", f"regular_price is {obj.get('regular_price')!r} after the update"
    return None


def _unknown(sku: str) -> ListingResult:
    return ListingResult(
        sku=sku, status="rejected", code="sku_not_found", message="no product or variation has this SKU"
    )


def _invalid_price(sku: str, problem: str) -> ListingResult:
    return ListingResult(sku=sku, status="rejected", code="invalid_price", message=problem)


def _failed(sku: str, exc: ConnectorError, ref: Ref | None = None) -> ListingResult:
    log.info("woocommerce listing call failed", sku=sku, status=exc.status, code=exc.code)
    return ListingResult(
        sku=sku,
        status="failed" if exc.retryable else "rejected",
        external_id=str(ref.object_id) if ref else None,
        code=exc.code or type(exc).__name__,
        message=exc.message,
    )
