"""Orders: one `order-sync` workflow per marketplace order (webhook and poller share its id) allocates in the master
and pushes the new availability to every channel; `order-poll` / `order-poll-all` read orders the webhooks missed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.stock.activities import StockActivities
    from merchflow.temporal import MARKETPLACE, SKU
    from workflows.common.retries import DB, FAST, HEARTBEAT, PUSH, READ_SOON
    from workflows.stock.contract import (
        ORDER_POLL_ALL_WORKFLOW,
        ORDER_POLL_WORKFLOW,
        ORDER_SYNC_WORKFLOW,
        AccountsInput,
        CancelInput,
        FetchOrderInput,
        OrderPollAllInput,
        OrderPollAllResult,
        OrderSyncInput,
        OrderSyncResult,
        PollInput,
        PollResult,
        SaveCursorInput,
        order_workflow_id,
    )
    from workflows.stock.pushes import push_with_item_retries


@workflow.defn(name=ORDER_SYNC_WORKFLOW)
class OrderSyncWorkflow:
    @workflow.run
    async def run(self, inp: OrderSyncInput) -> OrderSyncResult:
        workflow.upsert_search_attributes([MARKETPLACE.value_set(inp.marketplace)])
        if not inp.lines:  # the notification carried ids only: read the whole order first
            fetched = await workflow.execute_activity_method(
                StockActivities.fetch_order,
                FetchOrderInput(account_id=inp.account_id, order_id=inp.order_id),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=READ_SOON,
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
            *(
                push_with_item_retries(a, skus, f"order {inp.order_id}", f"{key}:{a}", inp.received_at)
                for a in targets
            )
        )
        for p in pushes:
            result.pushed[p.account_id] = sum(1 for i in p.items if i.status == "applied")
            bad = [i.sku for i in p.items if i.status not in ("applied", "skipped")]
            if bad:
                result.failed[p.account_id] = bad
        return result


@workflow.defn(name=ORDER_POLL_WORKFLOW)
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


@workflow.defn(name=ORDER_POLL_ALL_WORKFLOW)
class OrderPollAllWorkflow:
    """What the 5-minute schedule starts: one poll per enabled account."""

    @workflow.run
    async def run(self, inp: OrderPollAllInput) -> OrderPollAllResult:
        found = await workflow.execute_activity_method(
            StockActivities.accounts,
            AccountsInput(account_ids=inp.account_ids),
            start_to_close_timeout=DB,
            retry_policy=FAST,
        )
        parent = workflow.info().workflow_id
        polls = await asyncio.gather(
            *(
                workflow.execute_child_workflow(
                    OrderPollWorkflow.run,
                    PollInput(account_id=a.account_id),
                    id=f"{parent}-poll-{a.account_id}",
                )
                for a in found.accounts
            )
        )
        return OrderPollAllResult(polls=list(polls))
