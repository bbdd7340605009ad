"""`replenishment-run` (after each forecast run): plan the whole catalogue in one activity, deliver the run's
alert digest, and start one `purchase-order` workflow per proposed PO - they outlive the run (abandoned children:
a PO waits days for approval, weeks for delivery)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.decisions.activities import DecisionActivities
    from activities.replenishment.activities import ReplenishmentActivities
    from workflows.common.retries import DELIVERY, STEADY
    from workflows.decisions.contract import DeliverInput
    from workflows.replenishment.contract import (
        PO_WORKFLOW,
        REPLENISH_WORKFLOW,
        PurchaseOrderInput,
        ReplenishRunInput,
        ReplenishRunResult,
        po_workflow_id,
    )


@workflow.defn(name=REPLENISH_WORKFLOW)
class ReplenishmentRunWorkflow:
    @workflow.run
    async def run(self, inp: ReplenishRunInput) -> ReplenishRunResult:
        plan = await workflow.execute_activity_method(
            ReplenishmentActivities.plan, inp,
            start_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=timedelta(minutes=5), retry_policy=STEADY,
        )  # fmt: skip
        started = []
        for po in plan.purchase_orders:
            wid = po_workflow_id(po.po_id)
            await workflow.start_child_workflow(
                PO_WORKFLOW, PurchaseOrderInput(po_id=po.po_id, proposal=po.proposal),
                id=wid, parent_close_policy=ParentClosePolicy.ABANDON,
            )  # fmt: skip
            started.append(wid)
        if plan.outbox_id is not None:
            try:
                await workflow.execute_activity_method(
                    DecisionActivities.deliver_notification, DeliverInput(outbox_id=plan.outbox_id),
                    start_to_close_timeout=timedelta(minutes=1), retry_policy=DELIVERY,
                )  # fmt: skip
            except ActivityError as exc:  # the outbox keeps it; ops-outbox-resend tries again later
                workflow.logger.warning("alert digest not delivered: %s", exc.cause or exc)
        return ReplenishRunResult(plan=plan, po_workflows=started)
