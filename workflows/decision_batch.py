"""The bulk path's executor: one workflow that acts on approved workflow-less decisions page by page.

Started or nudged by signal-with-start (`merchflow.decisions.bulk.kick_batch_executor`) whenever rows are
approved. It scans until a pass finds nothing new, then ends; a signal that arrives meanwhile makes it scan
again, so an approval is never left behind. Progress is in the rows (status), so a rescan is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from merchflow.decisions.payloads import (
        BatchExecuteWorkflowInput,
        BatchExecuteWorkflowResult,
        BatchKick,
        BatchPageInput,
        ExpireOverdueInput,
        ExpireOverdueResult,
        FollowUp,
        PageResult,
    )

_OPTS = {
    "start_to_close_timeout": timedelta(minutes=5),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1)),
}


async def _start_or_nudge(follow: FollowUp) -> None:
    """Start the workflow an action asked for, or signal it to scan again when it already runs (a run that
    just ended may refuse the signal: start it anew then)."""
    for _ in range(3):
        try:
            await workflow.start_child_workflow(
                follow.workflow,
                follow.arg,
                id=follow.workflow_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            return
        except WorkflowAlreadyStartedError:
            pass
        try:
            await workflow.get_external_workflow_handle(follow.workflow_id).signal(follow.signal, {})
            return
        except Exception as exc:  # the run ended between the two calls
            workflow.logger.info("follow-up %s not signalled: %s", follow.workflow_id, exc)
    workflow.logger.warning("follow-up %s neither started nor signalled", follow.workflow_id)


@workflow.defn(name="decision-batch-execute")
class DecisionBatchExecuteWorkflow:
    def __init__(self) -> None:
        self._more = False

    @workflow.signal(name="more")
    def more(self, _: BatchKick) -> None:
        self._more = True

    @workflow.run
    async def run(self, inp: BatchExecuteWorkflowInput) -> BatchExecuteWorkflowResult:
        totals = inp.model_copy()
        expired = await workflow.execute_activity(
            "decision.expire_overdue", ExpireOverdueInput(), result_type=ExpireOverdueResult, **_OPTS
        )
        totals.expired += expired.expired
        cursor = inp.after_id
        rescan = inp.rescan
        while True:
            self._more = False
            while True:
                page = await workflow.execute_activity(
                    "decision.execute_approved_page",
                    BatchPageInput(after_id=cursor, limit=inp.page_size),
                    result_type=PageResult,
                    **_OPTS,
                )
                totals.executed += page.executed
                totals.premise_changed += page.premise_changed
                totals.failed += page.failed
                for follow in page.follow_ups:
                    await _start_or_nudge(follow)
                cursor = page.next_cursor
                if page.done:
                    break
                if workflow.info().is_continue_as_new_suggested():
                    totals.after_id, totals.rescan = cursor, rescan or self._more
                    workflow.continue_as_new(totals)
            if not (self._more or rescan):
                break
            rescan = False
            cursor = ""  # approvals that came in meanwhile may sit before the cursor
        return BatchExecuteWorkflowResult(
            executed=totals.executed,
            premise_changed=totals.premise_changed,
            failed=totals.failed,
            expired=totals.expired,
        )


WORKFLOWS: list[type] = [DecisionBatchExecuteWorkflow]
