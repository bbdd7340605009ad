"""sales-import: scan an uploaded sales file, then insert it batch by batch (byte offsets between batches),
then record the outcome. The same shape as catalog-import; only ids, offsets and counters pass through Temporal."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.forecasting.sales import SalesActivities
    from workflows.common.retries import BOUNDED, FAST
    from workflows.forecasting.contract import (
        PROGRESS_QUERY,
        SALES_IMPORT_WORKFLOW,
        SalesBatchInput,
        SalesFinishInput,
        SalesImportInput,
        SalesImportProgress,
        SalesImportResult,
        SalesPrepareInput,
    )


@workflow.defn(name=SALES_IMPORT_WORKFLOW)
class SalesImportWorkflow:
    @workflow.init
    def __init__(self, inp: SalesImportInput) -> None:
        phase = "importing" if inp.next_offset is not None else "preparing"
        self._progress = SalesImportProgress(import_id=inp.import_id, phase=phase, counts=inp.counts)

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> SalesImportProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: SalesImportInput) -> SalesImportResult:
        heartbeat = timedelta(seconds=inp.heartbeat_timeout_seconds)
        offset, row, counts = inp.next_offset, inp.next_row, inp.counts
        try:
            if offset is None:
                prep = await workflow.execute_activity_method(
                    SalesActivities.prepare,
                    SalesPrepareInput(
                        import_id=inp.import_id, blob_key=inp.blob_key, file_format=inp.file_format,
                        filename=inp.filename, size_bytes=inp.size_bytes, created_by=inp.created_by,
                        workflow_id=workflow.info().workflow_id,
                    ),
                    start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=heartbeat, retry_policy=BOUNDED,
                )  # fmt: skip
                if prep.fatal_error is not None:
                    return await self._finish(inp, "failed", prep.fatal_error)
                offset, self._progress.total_rows, self._progress.phase = (
                    prep.data_offset,
                    prep.total_rows,
                    "importing",
                )
            while True:
                batch = await workflow.execute_activity_method(
                    SalesActivities.import_batch,
                    SalesBatchInput(
                        import_id=inp.import_id, blob_key=inp.blob_key, file_format=inp.file_format,
                        start_offset=offset, first_row=row, batch_size=inp.batch_size,
                    ),
                    start_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=heartbeat, retry_policy=BOUNDED,
                )  # fmt: skip
                offset, row = batch.next_offset, batch.next_row
                counts = counts.plus(batch.counts)
                self._progress.counts = counts
                if batch.done:
                    break
                if workflow.info().is_continue_as_new_suggested():
                    workflow.continue_as_new(
                        inp.model_copy(update={"next_offset": offset, "next_row": row, "counts": counts})
                    )
            return await self._finish(inp, "completed", None)
        except ActivityError as exc:
            return await self._finish(inp, "failed", f"import stopped: {exc.cause or exc}")

    async def _finish(self, inp: SalesImportInput, status: str, error: str | None) -> SalesImportResult:
        self._progress.phase = "finishing"
        done = await workflow.execute_activity_method(
            SalesActivities.finish,
            SalesFinishInput(import_id=inp.import_id, status=status, error=error),  # type: ignore[arg-type]
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=FAST,
        )
        self._progress.phase, self._progress.counts = done.status, done.counts
        return done
