"""catalog-import: scan an uploaded catalog, then upsert it batch by batch, then record the outcome.

Only the blob key, byte offsets and counters pass through Temporal. Batches run one after another: on
SQLite there is a single writer anyway, and the byte offset of batch N+1 is known only once batch N is read.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.catalog.activities import CatalogActivities
    from workflows.catalog.contract import (
        IMPORT_WORKFLOW,
        PROGRESS_QUERY,
        BatchInput,
        BatchResult,
        CatalogImportInput,
        CatalogImportProgress,
        CatalogImportResult,
        FinishInput,
        ImportCounts,
        ImportCursor,
        PrepareInput,
    )
    from workflows.common.retries import BOUNDED, FAST

# Transient trouble (database restarting, worker killed) is retried; a bug that fails every attempt ends
# the import as failed instead of retrying forever.
_RETRY = BOUNDED


@workflow.defn(name=IMPORT_WORKFLOW)
class CatalogImportWorkflow:
    @workflow.init
    def __init__(self, inp: CatalogImportInput) -> None:
        c = inp.cursor
        self._progress = CatalogImportProgress(
            import_id=inp.import_id,
            phase="importing" if c else "preparing",
            total_rows=c.total_rows if c else None,
            batches_done=c.batches_done if c else 0,
            counts=c.counts if c else ImportCounts(),
        )

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> CatalogImportProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: CatalogImportInput) -> CatalogImportResult:
        heartbeat = timedelta(seconds=inp.heartbeat_timeout_seconds)
        try:
            cursor = inp.cursor
            if cursor is None:
                prep = await workflow.execute_activity_method(
                    CatalogActivities.prepare,
                    PrepareInput(
                        import_id=inp.import_id,
                        blob_key=inp.blob_key,
                        file_format=inp.file_format,
                        filename=inp.filename,
                        size_bytes=inp.size_bytes,
                        created_by=inp.created_by,
                        workflow_id=workflow.info().workflow_id,
                        options=inp.options,
                    ),
                    start_to_close_timeout=timedelta(hours=1),
                    heartbeat_timeout=heartbeat,
                    retry_policy=_RETRY,
                )
                if prep.fatal_error is not None:
                    return await self._finish(inp, "failed", prep.fatal_error, prep.total_rows)
                cursor = ImportCursor(
                    total_rows=prep.total_rows,
                    data_offset=prep.data_offset,
                    next_offset=prep.data_offset,
                    next_row=1,
                )
                self._progress.total_rows = prep.total_rows
                self._progress.phase = "importing"
            batches_this_run = 0
            while True:
                result = await self._batch(inp, cursor, heartbeat)
                cursor = cursor.model_copy(
                    update={
                        "next_offset": result.next_offset,
                        "next_row": result.next_row,
                        "batches_done": cursor.batches_done + 1,
                        "counts": cursor.counts.plus(result.counts),
                    }
                )
                self._progress.batches_done = cursor.batches_done
                self._progress.counts = cursor.counts
                if result.done:
                    break
                batches_this_run += 1
                if workflow.info().is_continue_as_new_suggested() or (
                    inp.max_batches_per_run is not None and batches_this_run >= inp.max_batches_per_run
                ):
                    workflow.continue_as_new(inp.model_copy(update={"cursor": cursor}))
            return await self._finish(inp, "completed", None, cursor.total_rows)
        except ActivityError as exc:
            cause = exc.cause or exc
            workflow.logger.error("catalog import failed", extra={"error": str(cause)})
            return await self._finish(
                inp, "failed", f"import stopped: {cause}", self._progress.total_rows or 0
            )

    async def _batch(
        self, inp: CatalogImportInput, cursor: ImportCursor, heartbeat: timedelta
    ) -> BatchResult:
        return await workflow.execute_activity_method(
            CatalogActivities.import_batch,
            BatchInput(
                import_id=inp.import_id,
                blob_key=inp.blob_key,
                file_format=inp.file_format,
                start_offset=cursor.next_offset,
                first_row=cursor.next_row,
                batch_size=inp.batch_size,
                options=inp.options,
                created_by=inp.created_by,
            ),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=heartbeat,
            retry_policy=_RETRY,
        )

    async def _finish(
        self, inp: CatalogImportInput, status: str, error: str | None, total_rows: int
    ) -> CatalogImportResult:
        self._progress.phase = "finishing"
        done = await workflow.execute_activity_method(
            CatalogActivities.finish,
            FinishInput(import_id=inp.import_id, status=status, error=error),  # type: ignore[arg-type]
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=FAST,
        )
        self._progress.phase = "completed" if done.status == "completed" else "failed"
        self._progress.counts = done.counts
        self._progress.error = error
        return CatalogImportResult(
            import_id=inp.import_id,
            status=done.status,
            error=error,
            total_rows=total_rows,
            counts=done.counts,
        )
