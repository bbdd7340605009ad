"""Pushing stock to one account from a workflow: the push activity, then per-item retry rounds."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.stock.activities import StockActivities
    from workflows.common.retries import FAST, HEARTBEAT, PUSH, retry_failed_items
    from workflows.stock.contract import PushInput, PushItem, PushResult

RETRYABLE = ("failed", "conflict")


async def push_with_item_retries(
    account_id: int, skus: list[str], reason: str, key: str, received_at: float | None = None
) -> PushResult:
    """Push, then retry just the items that failed, with backoff, a bounded number of times. An account that refuses
    the push for good (credentials revoked, ...) is reported as rejected items: the other accounts' pushes and the
    rest of the workflow go on, and the next reconcile puts that account right once it works again. `received_at`
    (an order's webhook receipt) lets the push activity measure the order's sync latency."""
    items: dict[str, PushItem] = {}

    async def push_round(push_key: str) -> bool:
        todo = [i.sku for i in items.values() if i.status in RETRYABLE] if items else skus
        try:
            result = await workflow.execute_activity_method(
                StockActivities.push_quantities,
                PushInput(
                    account_id=account_id,
                    skus=todo,
                    reason=reason,
                    idempotency_key=push_key,
                    received_at=received_at,
                ),
                start_to_close_timeout=PUSH,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=FAST,
            )
            pushed = result.items
        except ActivityError as exc:
            workflow.logger.warning("push to account %s refused: %s", account_id, exc.cause or exc)
            message = str(exc.cause or exc)[:500]
            pushed = [PushItem(sku=sku, status="rejected", message=message) for sku in todo]
        items.update({i.sku: i for i in pushed})
        return any(i.status in RETRYABLE for i in items.values())

    await retry_failed_items(push_round, key)
    return PushResult(account_id=account_id, items=list(items.values()))
