"""One account's adapter as business code sees it: master SKUs in and out, and how its calls end reported.

A listing linked by identifier (GTIN / ASIN / MPN) keeps the marketplace's own SKU; business code (stock pushes,
orders, reconciles, repricing) works in master SKUs only. This wrapper translates at the port: requests carry the
marketplace's SKU, answers, orders and webhooks come back in master SKUs. Listing sync reads the raw adapter.

Every call's end goes to the registry's listener: a refused credential marks the account "needs re-auth" (and
notifies) before the error propagates; successes keep "last successful call" current.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from connectors.errors import AuthError, ConnectorError
from connectors.marketplace.port import Marketplace, WaitCallback
from connectors.marketplace.types import (
    BulkResult,
    ListingDraft,
    ListingResult,
    ListingsPage,
    Order,
    OrdersPage,
    PriceUpdate,
    QuantityUpdate,
    WebhookEvent,
)

# (account id, None on success or the connector error) -> awaited before the caller sees the result
CallListener = Callable[[int, ConnectorError | None], Awaitable[None]]


def credentials_refused(exc: BaseException) -> bool:
    """The marketplace no longer accepts this account's credentials (revoked, expired refresh token, wrong keys):
    retrying cannot help until someone reconnects. A 403 on one operation is a missing permission, not this."""
    return isinstance(exc, AuthError) and exc.status != 403


class SkuAliases:
    """Master SKU <-> marketplace SKU for the account's listings whose SKUs differ; others map to themselves."""

    def __init__(self, master_to_marketplace: Mapping[str, str] | None = None) -> None:
        self.out = dict(master_to_marketplace or {})
        self.back = {v: k for k, v in self.out.items()}

    def __bool__(self) -> bool:
        return bool(self.out)

    def to_marketplace(self, sku: str) -> str:
        return self.out.get(sku, sku)

    def to_master(self, sku: str) -> str:
        return self.back.get(sku, sku)


class AccountAdapter:
    def __init__(
        self,
        inner: Marketplace,
        *,
        account_id: int,
        aliases: SkuAliases,
        listener: CallListener | None = None,
    ) -> None:
        self._inner = inner
        self._account_id = account_id
        self._aliases = aliases
        self._listener = listener

    @property
    def inner(self) -> Marketplace:
        return self._inner

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)  # AttributeError for what the marketplace lacks, as on the adapter
        if name == "get_order":  # eBay only: one order by id, in master SKUs like list_orders

            async def get_order(order_id: str) -> Order | None:
                order = await self._call(value(order_id))
                return None if order is None else self._order_back(order)

            return get_order
        if inspect.iscoroutinefunction(value):

            async def reported(*args: Any, **kwargs: Any) -> Any:
                return await self._call(value(*args, **kwargs))

            return reported
        return value

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            result = await pending
        except ConnectorError as exc:
            if self._listener is not None and (credentials_refused(exc) or exc.retryable):
                await self._listener(self._account_id, exc)
            raise
        if self._listener is not None:
            await self._listener(self._account_id, None)
        return result

    # ---- requests: master -> marketplace SKUs; answers back ----------------------------------------------------
    async def set_quantities(
        self, updates: Sequence[QuantityUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        sent = [u.model_copy(update={"sku": self._aliases.to_marketplace(u.sku)}) for u in updates]
        result = await self._call(
            self._inner.set_quantities(sent, idempotency_key=idempotency_key, on_wait=on_wait)
        )
        return self._bulk_back(result)

    async def set_prices(
        self, updates: Sequence[PriceUpdate], *, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> BulkResult:
        sent = [u.model_copy(update={"sku": self._aliases.to_marketplace(u.sku)}) for u in updates]
        result = await self._call(
            self._inner.set_prices(sent, idempotency_key=idempotency_key, on_wait=on_wait)
        )
        return self._bulk_back(result)

    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        sent = draft.model_copy(update={"sku": self._aliases.to_marketplace(draft.sku)})
        return self._result_back(
            await self._call(self._inner.create_listing(sent, idempotency_key=idempotency_key))
        )

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        sent = draft.model_copy(update={"sku": self._aliases.to_marketplace(draft.sku)})
        return self._result_back(
            await self._call(self._inner.update_listing(sent, idempotency_key=idempotency_key))
        )

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult:
        sent = self._aliases.to_marketplace(sku)
        return self._result_back(
            await self._call(self._inner.end_listing(sent, idempotency_key=idempotency_key))
        )

    # ---- reads: marketplace -> master SKUs ---------------------------------------------------------------------
    async def list_listings(self, cursor: str | None = None, *, page_size: int | None = None) -> ListingsPage:
        page: ListingsPage = await self._call(self._inner.list_listings(cursor, page_size=page_size))
        if self._aliases:
            page.items = [i.model_copy(update={"sku": self._aliases.to_master(i.sku)}) for i in page.items]
        return page

    async def list_orders(self, cursor: str | None = None) -> OrdersPage:
        page: OrdersPage = await self._call(self._inner.list_orders(cursor))
        page.orders = [self._order_back(o) for o in page.orders]
        return page

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        event = self._inner.verify_webhook(headers, body)
        if not self._aliases:
            return event
        update: dict[str, Any] = {}
        if event.order is not None:
            update["order"] = self._order_back(event.order)
        if event.sku is not None:
            update["sku"] = self._aliases.to_master(event.sku)
        return event.model_copy(update=update)

    # ---- helpers -----------------------------------------------------------------------------------------------
    def _bulk_back(self, result: BulkResult) -> BulkResult:
        if self._aliases:
            result.outcomes = [
                o.model_copy(update={"sku": self._aliases.to_master(o.sku)}) for o in result.outcomes
            ]
        return result

    def _result_back(self, result: ListingResult) -> ListingResult:
        return (
            result.model_copy(update={"sku": self._aliases.to_master(result.sku)})
            if self._aliases
            else result
        )

    def _order_back(self, order: Order) -> Order:
        if not self._aliases:
            return order
        lines = [line.model_copy(update={"sku": self._aliases.to_master(line.sku)}) for line in order.lines]
        return order.model_copy(update={"lines": lines})
