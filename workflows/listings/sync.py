"""listing-sync: every listing of one account, read in batches (each a heartbeating activity that also links it),
then the run closed with its report. Never a workflow per listing: 100,000 listings are 50 batches of 2,000.

continue-as-new after `batches_per_run` batches (or when Temporal suggests it) keeps the history small; the cursor,
counters and run id travel in the input. A batch that fails for good (credentials refused: the account is marked
"needs re-auth" by then) closes the run as failed with the reason; other accounts' syncs are separate workflows.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.listings.activities import ListingActivities
    from domain.listings.matching import SyncReport
    from workflows.common.retries import DB, FAST, STEADY
    from workflows.listings.contract import (
        PROGRESS_QUERY,
        SYNC_ALL_WORKFLOW,
        SYNC_WORKFLOW,
        FinishRunInput,
        ListingSyncInput,
        ListingSyncProgress,
        ListingSyncResult,
        StartRunInput,
        SyncAllInput,
        SyncAllResult,
        SyncBatchInput,
        SyncCursor,
    )


@workflow.defn(name=SYNC_WORKFLOW)
class ListingSyncWorkflow:
    @workflow.init
    def __init__(self, inp: ListingSyncInput) -> None:
        s = inp.state
        self._progress = ListingSyncProgress(
            account_id=inp.account_id,
            run_id=s.run_id if s else None,
            phase="reading" if s else "starting",
            pages=s.pages if s else 0,
            listings=s.listings if s else 0,
            report=s.report if s else SyncReport(),
        )

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> ListingSyncProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: ListingSyncInput) -> ListingSyncResult:
        state = inp.state
        if state is None:
            info = workflow.info()
            state = SyncCursor(run_id=f"{info.workflow_id}@{info.run_id}")
            await workflow.execute_activity_method(
                ListingActivities.start_run,
                StartRunInput(account_id=inp.account_id, run_id=state.run_id, trigger=inp.trigger),
                start_to_close_timeout=DB,
                retry_policy=FAST,
            )
            self._progress.run_id, self._progress.phase = state.run_id, "reading"
        try:
            batches = 0
            while True:
                result = await workflow.execute_activity_method(
                    ListingActivities.sync_batch,
                    SyncBatchInput(
                        account_id=inp.account_id,
                        run_id=state.run_id,
                        cursor=state.cursor,
                        first_page=state.batches == 0,
                        batch_listings=inp.batch_listings,
                    ),
                    start_to_close_timeout=timedelta(hours=2),
                    heartbeat_timeout=timedelta(seconds=inp.heartbeat_timeout_seconds),
                    retry_policy=STEADY,
                )
                state = state.model_copy(update={
                    "cursor": result.next_cursor, "pages": state.pages + result.pages,
                    "listings": state.listings + result.listings, "batches": state.batches + 1,
                    "report": state.report.plus(result.report),
                })  # fmt: skip
                self._progress.pages, self._progress.listings = state.pages, state.listings
                self._progress.report = state.report
                if result.done:
                    break
                batches += 1
                if batches >= inp.batches_per_run or workflow.info().is_continue_as_new_suggested():
                    workflow.continue_as_new(inp.model_copy(update={"state": state}))
        except ActivityError as exc:
            cause = exc.cause or exc
            workflow.logger.warning(
                "listing sync stopped", extra={"account_id": inp.account_id, "error": str(cause)}
            )
            return await self._finish(inp, state, "failed", f"listing sync stopped: {cause}")
        return await self._finish(inp, state, "completed", None)

    async def _finish(
        self, inp: ListingSyncInput, state: SyncCursor, status: str, error: str | None
    ) -> ListingSyncResult:
        self._progress.phase = "finishing"
        done = await workflow.execute_activity_method(
            ListingActivities.finish_run,
            FinishRunInput(
                account_id=inp.account_id,
                run_id=state.run_id,
                status=status,
                error=error,  # type: ignore[arg-type]
                pages=state.pages,
                listings=state.listings,
                report=state.report,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=FAST,
        )
        self._progress.phase = "completed" if status == "completed" else "failed"
        self._progress.report, self._progress.error = done.report, error
        return ListingSyncResult(account_id=inp.account_id, run_id=state.run_id, status=status, error=error,  # type: ignore[arg-type]
                                 pages=state.pages, listings=state.listings, report=done.report)  # fmt: skip


@workflow.defn(name=SYNC_ALL_WORKFLOW)
class ListingSyncAllWorkflow:
    """The daily fan-out: one listing-sync per connected account, started and not awaited (each account's sync is its
    own workflow: one slow or refused account delays nobody; one already running is joined, not doubled)."""

    @workflow.run
    async def run(self, inp: SyncAllInput) -> SyncAllResult:
        return await workflow.execute_activity_method(
            ListingActivities.start_all, inp, start_to_close_timeout=timedelta(minutes=5), retry_policy=FAST
        )
