"""Stock orchestration: one order -> allocate + push everywhere; publish after adjustments; order polling. Full
reconciles are in workflows/stock_reconcile.py (listed in WORKFLOWS here, the feature's one registry entry)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.stock import StockActivities
    from activities.stock_payloads import (
        CancelInput,
        FetchOrderInput,
        OrderSyncInput,
        OrderSyncResult,
        PollInput,
        PollResult,
        PublishInput,
        PushInput,
        PushItem,
        PushResult,
        ReconcileInput,
        SaveCursorInput,
    )
    from merchflow.temporal import MARKETPLACE, SKU
    from workflows.stock_policies import DB, FAST, HEARTBEAT, PUSH

from workflows.stock_reconcile import ReconcileAccountWorkflow, ReconcileWorkflow

ITEM_RETRIES = 5  # per-item retries of a push, after the activity's own rounds


def order_workflow_id(account_id: int, order_id: str) -> str:
    """Webhook and poller derive the same id, so an order is processed by exactly one workflow."""
    return f"order-{account_id}-{order_id}"


async def push_with_item_retries(account_id: int, skus: list[str], reason: str, key: str) -> PushResult:
    """Push, then retry just the items that failed, with backoff, a bounded number of times. An account that refuses
    the push for good (credentials revoked, ...) is reported as failed items: the other accounts' pushes and the rest
    of the workflow go on, and the next reconcile puts that account right once it works again."""

    async def push(push_skus: list[str], push_key: str) -> list[PushItem]:
        try:
            result = await workflow.execute_activity_method(
                StockActivities.push_quantities,
                PushInput(account_id=account_id, skus=push_skus, reason=reason, idempotency_key=push_key),
                start_to_close_timeout=PUSH,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=FAST,
            )
        except ActivityError as exc:
            workflow.logger.warning("push to account %s refused: %s", account_id, exc.cause or exc)
            return [
                PushItem(sku=sku, status="rejected", message=str(exc.cause or exc)[:500]) for sku in push_skus
            ]
        return result.items

    items = {i.sku: i for i in await push(skus, key)}
    for attempt in range(ITEM_RETRIES):
        retry = [i.sku for i in items.values() if i.status in ("failed", "conflict")]
        if not retry:
            break
        await workflow.sleep(timedelta(seconds=min(30, 2**attempt)))
        items.update({i.sku: i for i in await push(retry, f"{key}:retry{attempt}")})
    return PushResult(account_id=account_id, items=list(items.values()))


@workflow.defn(name="order-sync")
class OrderSyncWorkflow:
    @workflow.run
    async def run(self, inp: OrderSyncInput) -> OrderSyncResult:
        workflow.upsert_search_attributes([MARKETPLACE.value_set(inp.marketplace)])
        if not inp.lines:  # the notification carried ids only: read the whole order first
            fetched = await workflow.execute_activity_method(
                StockActivities.fetch_order,
                FetchOrderInput(account_id=inp.account_id, order_id=inp.order_id),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=300),
                    maximum_interval=timedelta(seconds=30),
                    maximum_attempts=20,
                ),
            )
            if fetched.cancelled or not fetched.lines:
                return OrderSyncResult(order_id=inp.order_id, status="ignored", duplicate=False)
            inp = inp.model_copy(update={"lines": fetched.lines})
        skus = sorted({line.sku for line in inp.lines})
        workflow.upsert_search_attributes([SKU.value_set(skus[0])])
        alloc = await workflow.execute_activity_method(
            StockActivities.allocate_order, inp, start_to_close_timeout=DB, retry_policy=FAST
        )
        result = OrderSyncResult(
            order_id=inp.order_id, status=alloc.status, duplicate=alloc.duplicate, received_at=inp.received_at
        )
        if alloc.status == "cancelled":
            cancel = await workflow.execute_activity_method(
                StockActivities.cancel_order,
                CancelInput(
                    account_id=inp.account_id,
                    order_id=inp.order_id,
                    reason="out of stock across channels",
                    idempotency_key=f"cancel-{inp.account_id}-{inp.order_id}",
                ),
                start_to_close_timeout=PUSH,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=FAST,
            )
            result.cancelled_on_marketplace = cancel.status == "applied"
            result.cancel_message = cancel.message
            # nothing moved in the master, but the selling marketplace took the units off its own count
            targets = [a for a in alloc.accounts if a == inp.account_id]
        elif alloc.status == "unmanaged":
            targets = []  # no SKU of the order is in the master: nothing moved, nothing to publish
        else:
            # Every listing, the selling one included: its own count already dropped, but a reconcile that read it
            # just before the sale may have put the unit back, and only a push after the allocation fixes that.
            targets = alloc.accounts
        key = f"{workflow.info().workflow_id}"
        pushes = await asyncio.gather(
            *(push_with_item_retries(a, skus, f"order {inp.order_id}", f"{key}:{a}") for a in targets)
        )
        for p in pushes:
            result.pushed[p.account_id] = sum(1 for i in p.items if i.status == "applied")
            bad = [i.sku for i in p.items if i.status not in ("applied", "skipped")]
            if bad:
                result.failed[p.account_id] = bad
        return result


@workflow.defn(name="stock-publish")
class StockPublishWorkflow:
    """After an adjustment or receipt: push the SKUs' new availability to every channel listing them."""

    @workflow.run
    async def run(self, inp: PublishInput) -> dict[int, int]:
        if inp.skus:
            workflow.upsert_search_attributes([SKU.value_set(inp.skus[0])])
        accounts = await workflow.execute_activity_method(
            StockActivities.accounts_listing, inp, start_to_close_timeout=DB, retry_policy=FAST
        )
        key = workflow.info().workflow_id
        pushes = await asyncio.gather(
            *(push_with_item_retries(a, inp.skus, inp.reason, f"{key}:{a}") for a in accounts)
        )
        return {p.account_id: sum(1 for i in p.items if i.status == "applied") for p in pushes}


@workflow.defn(name="order-poll")
class OrderPollWorkflow:
    """Poll one account's orders: every order goes through the same order-sync workflow as webhooks, and the cursor
    advances only once the whole page is processed."""

    @workflow.run
    async def run(self, inp: PollInput) -> PollResult:
        seen = pages = 0
        while pages < inp.max_pages:
            page = await workflow.execute_activity_method(
                StockActivities.poll_orders, inp, start_to_close_timeout=PUSH, retry_policy=FAST
            )
            pages += 1
            children = []
            for order in page.orders:
                wid = order_workflow_id(order.account_id, order.order_id)
                children.append(self._process(order, wid))
            await asyncio.gather(*children)
            seen += len(page.orders)
            await workflow.execute_activity_method(
                StockActivities.save_cursor,
                SaveCursorInput(account_id=inp.account_id, cursor=page.next_cursor),
                start_to_close_timeout=DB,
                retry_policy=FAST,
            )
            if not page.has_more:
                break
        return PollResult(account_id=inp.account_id, orders_seen=seen, pages=pages)

    async def _process(self, order: OrderSyncInput, wid: str) -> None:
        try:
            await workflow.execute_child_workflow(
                OrderSyncWorkflow.run,
                order,
                id=wid,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            pass  # its webhook got there first: that workflow processes it, nothing is recorded twice
        except workflow.ChildWorkflowError as exc:
            raise ApplicationError(f"order {order.order_id} failed: {exc}") from exc


@workflow.defn(name="order-poll-all")
class OrderPollAllWorkflow:
    """What the 5-minute schedule starts: one poll per enabled account."""

    @workflow.run
    async def run(self, inp: ReconcileInput) -> list[PollResult]:
        accounts = await workflow.execute_activity_method(
            StockActivities.accounts, inp, start_to_close_timeout=DB, retry_policy=FAST
        )
        parent = workflow.info().workflow_id
        return list(
            await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        OrderPollWorkflow.run,
                        PollInput(account_id=a.account_id),
                        id=f"{parent}-poll-{a.account_id}",
                    )
                    for a in accounts
                )
            )
        )


WORKFLOWS: list[type] = [
    OrderSyncWorkflow,
    StockPublishWorkflow,
    ReconcileAccountWorkflow,
    ReconcileWorkflow,
    OrderPollWorkflow,
    OrderPollAllWorkflow,
]
