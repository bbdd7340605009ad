"""One alert check: evaluate (activity), then deliver the notices it queued through the notification channels."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ops.alerts import AlertActivities
    from workflows.common.retries import retry
    from workflows.ops.contract import (
        ALERTS_WORKFLOW,
        AlertCheckInput,
        AlertCheckResult,
        DeliverNoticeInput,
    )

CHECK_RETRY = retry(timedelta(seconds=1), timedelta(seconds=10), attempts=3)
# a channel that is down is tried a few times here; what is still pending is the outbox re-sender's
DELIVERY_RETRY = retry(timedelta(seconds=2), timedelta(seconds=30), attempts=4)


async def deliver_all(outbox_ids: list[int]) -> list[int]:
    """Deliver each notice; returns the ids still undelivered (left in the outbox)."""

    async def one(outbox_id: int) -> int | None:
        try:
            await workflow.execute_activity_method(
                AlertActivities.deliver_notice,
                DeliverNoticeInput(outbox_id=outbox_id),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=DELIVERY_RETRY,
            )
            return None
        except ActivityError as exc:
            workflow.logger.warning(
                "notice %s not delivered, left to the re-sender: %s", outbox_id, exc.cause or exc
            )
            return outbox_id

    return [i for i in await asyncio.gather(*(one(i) for i in outbox_ids)) if i is not None]


@workflow.defn(name=ALERTS_WORKFLOW)
class AlertsWorkflow:
    @workflow.run
    async def run(self, inp: AlertCheckInput) -> AlertCheckResult:
        result = await workflow.execute_activity_method(
            AlertActivities.check_alerts,
            inp,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=CHECK_RETRY,
        )
        await deliver_all(result.outbox_ids)
        return result
