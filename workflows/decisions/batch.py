"""The bulk path's executor: one workflow that acts on approved workflow-less decisions page by page.

Started or nudged by signal-with-start (`activities.decisions.bulk.kick_batch_executor`) whenever rows are
approved. It scans until a pass finds nothing new, then ends; a signal that arrives meanwhile makes it scan
again, so an approval is never left behind. Progress is in the rows (status), so a rescan is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.decisions.activities import DecisionActivities
    from workflows.common.retries import STEADY
    from workflows.decisions.contract import (
        BATCH_SIGNAL,
        BATCH_WORKFLOW,
        BatchExecuteWorkflowInput,
        BatchExecuteWorkflowResult,
        BatchKick,
        BatchPageInput,
        ExpireOverdueInput,
    )
    from workflows.decisions.follow_ups import start_or_nudge

_OPTS = {
    "start_to_close_timeout": timedelta(minutes=5),
    "retry_policy": STEADY,
}


@workflow.defn(name=BATCH_WORKFLOW)
class DecisionBatchExecuteWorkflow:
    def __init__(self) -> None:
        self._more = False

    @workflow.signal(name=BATCH_SIGNAL)
    def more(self, _: BatchKick) -> None:
        self._more = True

    @workflow.run
    async def run(self, inp: BatchExecuteWorkflowInput) -> BatchExecuteWorkflowResult:
        totals = inp.model_copy()
        expired = await workflow.execute_activity_method(
            DecisionActivities.expire_overdue, ExpireOverdueInput(), **_OPTS
        )
        totals.expired += expired.expired
        cursor = inp.after_id
        rescan = inp.rescan
        while True:
            self._more = False
            while True:
                page = await workflow.execute_activity_method(
                    DecisionActivities.execute_approved_page,
                    BatchPageInput(after_id=cursor, limit=inp.page_size),
                    **_OPTS,
                )
                totals.executed += page.executed
                totals.premise_changed += page.premise_changed
                totals.failed += page.failed
                for follow in page.follow_ups:
                    await start_or_nudge(follow)
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
