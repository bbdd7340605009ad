"""Daily housekeeping (logs, uploads, sandbox request logs) and the outbox re-sender."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.ops.housekeeping import HousekeepingActivities
    from workflows.common.retries import retry
    from workflows.ops.alerts import deliver_all
    from workflows.ops.contract import (
        HOUSEKEEPING_WORKFLOW,
        RESEND_WORKFLOW,
        HousekeepingInput,
        HousekeepingResult,
        ResendInput,
        ResendResult,
    )

STEP = {
    "start_to_close_timeout": timedelta(minutes=30),
    "retry_policy": retry(timedelta(seconds=1), timedelta(minutes=1), attempts=3),
}


@workflow.defn(name=HOUSEKEEPING_WORKFLOW)
class HousekeepingWorkflow:
    @workflow.run
    async def run(self, inp: HousekeepingInput) -> HousekeepingResult:
        logs = await workflow.execute_activity_method(HousekeepingActivities.rotate_logs, inp, **STEP)  # type: ignore[arg-type]
        uploads = await workflow.execute_activity_method(HousekeepingActivities.purge_uploads, inp, **STEP)  # type: ignore[arg-type]
        requests = await workflow.execute_activity_method(
            HousekeepingActivities.purge_sandbox_requests,
            inp,
            **STEP,  # type: ignore[arg-type]
        )
        return HousekeepingResult(logs=logs, uploads=uploads, sandbox_requests=requests)


@workflow.defn(name=RESEND_WORKFLOW)
class OutboxResendWorkflow:
    """Notices whose own workflow gave up delivering (channel down for an hour) are tried again; after
    retention.resend_max_attempts attempts in all they are marked failed."""

    @workflow.run
    async def run(self, inp: ResendInput) -> ResendResult:
        plan = await workflow.execute_activity_method(HousekeepingActivities.resend_plan, inp, **STEP)  # type: ignore[arg-type]
        pending = await deliver_all(plan.outbox_ids)
        return ResendResult(
            delivered=[i for i in plan.outbox_ids if i not in pending],
            still_pending=pending,
            given_up=plan.given_up,
        )
