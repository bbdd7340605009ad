"""`arbitrage-scan`: one run of a saved search (started by its Temporal Schedule, or by hand).

Pages through the source in batches of `batch_size` offers per activity (the activity pages, dedupes, prices and
decides; never a workflow per offer) and starts a long-running `arbitrage-deal` workflow only for the
opportunities worth acting on (abandoned on close: a deal outlives the scan that found it). Continues as new when
the history grows.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.arbitrage.activities import ArbitrageScanActivities
    from workflows.arbitrage.contract import (
        DEAL_WORKFLOW,
        SCAN_WORKFLOW,
        DealInput,
        FinishScanInput,
        ScanBatchInput,
        ScanInput,
        ScanResult,
        StartScanInput,
        deal_workflow_id,
    )
    from workflows.common.retries import DB, FAST, HEARTBEAT, STEADY

MAX_REPORTED_DEALS = 100


@workflow.defn(name=SCAN_WORKFLOW)
class ArbitrageScanWorkflow:
    @workflow.run
    async def run(self, inp: ScanInput) -> ScanResult:
        scan_id = inp.scan_id or workflow.info().workflow_id
        max_offers, batch = inp.max_offers, inp.batch_size
        if inp.scan_id is None:
            plan = await workflow.execute_activity_method(
                ArbitrageScanActivities.scan_start, StartScanInput(search_id=inp.search_id),
                start_to_close_timeout=DB, retry_policy=FAST,
            )  # fmt: skip
            max_offers = inp.max_offers or plan.max_offers
            batch = inp.batch_size or plan.batch_size
        assert max_offers is not None and batch is not None
        cursor, seen, dups, skipped, opportunities = (
            inp.cursor,
            inp.seen,
            inp.duplicates,
            inp.skipped,
            inp.opportunities,
        )
        started: list[str] = []
        while seen < max_offers:
            res = await workflow.execute_activity_method(
                ArbitrageScanActivities.scan_batch,
                ScanBatchInput(scan_id=scan_id, search_id=inp.search_id, cursor=cursor, limit=min(batch, max_offers - seen)),
                start_to_close_timeout=timedelta(hours=2),
                heartbeat_timeout=HEARTBEAT,
                retry_policy=STEADY,
            )  # fmt: skip
            seen, dups, skipped = seen + res.offers, dups + res.duplicates, skipped + res.skipped
            for deal_id in res.deals:
                if await self._start_deal(deal_id):
                    opportunities += 1
                    if len(started) < MAX_REPORTED_DEALS:
                        started.append(deal_id)
            cursor = res.next_cursor
            if res.done or res.offers == 0:
                break
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(ScanInput(
                    search_id=inp.search_id, max_offers=max_offers, batch_size=batch, scan_id=scan_id, cursor=cursor,
                    seen=seen, duplicates=dups, skipped=skipped, opportunities=opportunities,
                ))  # fmt: skip
        await workflow.execute_activity_method(
            ArbitrageScanActivities.scan_finish,
            FinishScanInput(scan_id=scan_id, status="completed", offers=seen, duplicates=dups, skipped=skipped,
                            opportunities=opportunities),
            start_to_close_timeout=DB, retry_policy=FAST,
        )  # fmt: skip
        return ScanResult(scan_id=scan_id, offers=seen, duplicates=dups, skipped=skipped, opportunities=opportunities,
                          deals=started)  # fmt: skip

    async def _start_deal(self, deal_id: str) -> bool:
        """Start the deal's own workflow; False when another scan (or a retry) already started it."""
        try:
            await workflow.start_child_workflow(
                DEAL_WORKFLOW,
                DealInput(deal_id=deal_id),
                id=deal_workflow_id(deal_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True
