"""Stock activities for orders and publishing: allocate an order, read one order, cancel, push available quantities,
poll orders. Pushes go through activities/stock/push.py; reconcile activities are in activities/stock/reconcile.py.
"""

from __future__ import annotations

import asyncio
import time

from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common.errors import to_application_error
from activities.common.heartbeats import heartbeat, kept_alive
from activities.stock.push import StockBase
from activities.stock.reconcile import StockReconcileActivities
from activities.stock.repository import (
    LineIn,
    publish_targets,
    record_order,
)
from activities.stock.tables import MarketplaceOrder, OrderCursor
from connectors.errors import ConnectorError
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing
from merchflow.db.types import utcnow
from merchflow.telemetry.metrics import ORDER_SYNC_LATENCY, ORDERS_SYNCED
from workflows.stock.contract import (
    AccountRef,
    AccountsInput,
    AccountsResult,
    AllocateResult,
    CancelInput,
    CancelResult,
    FetchOrderInput,
    FetchOrderResult,
    OrderLinePayload,
    OrderSyncInput,
    PollInput,
    PollPage,
    PublishInput,
    PublishTargetsResult,
    PushInput,
    PushResult,
    SaveCursorInput,
    SaveCursorResult,
)


class StockActivities(StockBase):
    # ------------------------------------------------------------------ orders
    @activity.defn(name="stock-allocate-order")
    def allocate_order(self, inp: OrderSyncInput) -> AllocateResult:
        """Allocate once, and say which accounts list the order's SKUs (the push targets) from the same read."""
        info = activity.info()
        with session_scope(self.engine) as s:
            r = record_order(
                s,
                account_id=inp.account_id,
                marketplace=inp.marketplace,
                order_id=inp.order_id,
                lines=[LineIn(line.sku, line.quantity) for line in inp.lines],
                policy=(inp.policy or self.policy),  # type: ignore[arg-type]
                source=inp.source,
                workflow_id=info.workflow_id,
            )
            accounts = sorted({t.account_id for t in publish_targets(s, [line.sku for line in inp.lines])})
        if not r.duplicate:
            ORDERS_SYNCED.labels(inp.marketplace, r.status).inc()
        return AllocateResult(
            status=r.status, duplicate=r.duplicate, allocated=r.allocated, short=r.short, accounts=accounts
        )

    @activity.defn(name="stock-fetch-order")
    async def fetch_order(self, inp: FetchOrderInput) -> FetchOrderResult:
        """The whole order, for notifications that carry ids only (eBay sends one per line item)."""
        adapter = self.marketplaces.get(inp.account_id)
        get_order = getattr(adapter, "get_order", None)
        if get_order is None:
            raise ApplicationError(
                f"{adapter.marketplace} sent an order without lines and its adapter cannot read one order",
                type="UnsupportedMarketplace",
                non_retryable=True,
            )
        try:
            order = await get_order(inp.order_id)
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        if order is None:
            # the notification can overtake the order API's view of it: retried by the workflow's policy
            raise ApplicationError(f"order {inp.order_id} not visible yet", type="OrderNotVisible")
        return FetchOrderResult(
            found=True,
            cancelled=order.cancelled,
            lines=[
                OrderLinePayload(sku=line.sku, quantity=line.quantity) for line in order.lines if line.sku
            ],
        )

    @activity.defn(name="stock-cancel-order")
    async def cancel_order(self, inp: CancelInput) -> CancelResult:
        """Cancel on the marketplace and record its answer on the order (a marketplace may refuse or not support
        it: the order then stays cancelled in the master and someone has to act on the marketplace)."""
        adapter = self.marketplaces.get(inp.account_id)
        try:
            async with kept_alive():
                res = await adapter.cancel_order(
                    inp.order_id, reason=inp.reason, idempotency_key=inp.idempotency_key
                )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        if res.status == "failed":
            raise ApplicationError(f"cancel of {inp.order_id} failed: {res.message}", type="CancelFailed")
        message = res.message or res.code
        await asyncio.to_thread(self._record_cancel, inp.account_id, inp.order_id, res.status, message)
        return CancelResult(status=res.status, message=message)

    def _record_cancel(self, account_id: int, order_id: str, status: str, message: str | None) -> None:
        with session_scope(self.engine) as s:
            order = s.exec(
                select(MarketplaceOrder).where(
                    MarketplaceOrder.account_id == account_id, MarketplaceOrder.order_id == order_id
                )
            ).first()
            if order is not None:
                order.outcome = {
                    **order.outcome,
                    "marketplace_cancel": {"status": status, "message": message, "at": utcnow().isoformat()},
                }
                s.add(order)

    @activity.defn(name="stock-accounts")
    def accounts(self, inp: AccountsInput) -> AccountsResult:
        with Session(self.engine) as s:
            q = select(MarketplaceAccount).where(MarketplaceAccount.enabled == True)  # noqa: E712
            # an account whose credentials were refused (or never given) is not called until reconnected
            q = q.where(MarketplaceAccount.status == "connected")
            if inp.account_ids:
                q = q.where(MarketplaceAccount.id.in_(inp.account_ids))  # type: ignore[union-attr]
            return AccountsResult(
                accounts=[
                    AccountRef(account_id=a.id or 0, marketplace=a.marketplace, name=a.name)
                    for a in s.exec(q.order_by(MarketplaceAccount.id)).all()
                ]
            )

    @activity.defn(name="stock-accounts-listing")
    def accounts_listing(self, inp: PublishInput) -> PublishTargetsResult:
        """Accounts that list any of these SKUs (targets of a publish), except the excluded one."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(MarketplaceListing.account_id).where(MarketplaceListing.sku.in_(inp.skus)).distinct()  # type: ignore[attr-defined]
            ).all()
        return PublishTargetsResult(account_ids=sorted(a for a in rows if a != inp.exclude_account_id))

    # ------------------------------------------------------------------ pushes
    @activity.defn(name="stock-push-quantities")
    async def push_quantities(self, inp: PushInput) -> PushResult:
        async with kept_alive():
            result = await self.push(inp.account_id, inp.skus, inp.idempotency_key, on_wait=heartbeat)
        if inp.received_at is not None and any(i.status == "applied" for i in result.items):
            # an order's webhook receipt to its new availability live on this marketplace
            marketplace = self.marketplaces.get(inp.account_id).marketplace
            ORDER_SYNC_LATENCY.labels(marketplace).observe(max(0.0, time.time() - inp.received_at))
        return result

    # ------------------------------------------------------------------ polling
    @activity.defn(name="stock-poll-orders")
    async def poll_orders(self, inp: PollInput) -> PollPage:
        """One page of orders after the stored cursor. The cursor is NOT advanced here (see save_cursor)."""
        cursor = await asyncio.to_thread(self._cursor, inp.account_id)
        adapter = self.marketplaces.get(inp.account_id)
        try:
            page = await adapter.list_orders(cursor)
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        orders = [
            OrderSyncInput(
                account_id=inp.account_id,
                marketplace=o.marketplace,
                order_id=o.order_id,
                source="poll",
                policy=inp.policy,
                lines=[OrderLinePayload(sku=line.sku, quantity=line.quantity) for line in o.lines],
            )
            for o in page.orders
            if o.lines and not o.cancelled
        ]
        return PollPage(orders=orders, next_cursor=page.next_cursor, has_more=page.has_more)

    def _cursor(self, account_id: int) -> str | None:
        with Session(self.engine) as s:
            row = s.get(OrderCursor, account_id)
            return row.cursor if row else None

    @activity.defn(name="stock-save-cursor")
    def save_cursor(self, inp: SaveCursorInput) -> SaveCursorResult:
        if inp.cursor is None:
            return SaveCursorResult(saved=False)
        with session_scope(self.engine) as s:
            row = s.get(OrderCursor, inp.account_id) or OrderCursor(account_id=inp.account_id)
            row.cursor, row.updated_at = inp.cursor, utcnow()
            s.add(row)
        return SaveCursorResult(saved=True)


__all__ = ["StockActivities", "StockReconcileActivities"]
