"""`forecast-run` (nightly Schedule): copy the engine's new orders into the sales history, forecast every SKU in
batches of a few thousand (one activity per batch, heartbeating; a retrain - backtest and model choice - when
the last one is a week old), record the run's backtest errors, precompute the analytics and the dashboard, then
plan replenishment (`replenishment-run`, started by name through its contract). Continue-as-new when the history
grows long; the cursor and totals travel along."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.analytics.activities import AnalyticsActivities
    from activities.forecasting.activities import ForecastActivities
    from activities.forecasting.sales import SalesActivities
    from workflows.common.retries import DB_BATCH, STEADY
    from workflows.forecasting.contract import (
        FORECAST_RUN_WORKFLOW,
        PROGRESS_QUERY,
        AnalyticsRefreshInput,
        AnalyticsRefreshResult,
        FinishForecastInput,
        ForecastBatchInput,
        ForecastProgress,
        ForecastRunInput,
        ForecastRunResult,
        ForecastTotals,
        StartForecastInput,
        SyncOrdersInput,
    )
    from workflows.replenishment.contract import REPLENISH_WORKFLOW, ReplenishRunInput, replenish_workflow_id


@workflow.defn(name=FORECAST_RUN_WORKFLOW)
class ForecastRunWorkflow:
    def __init__(self) -> None:
        self._progress = ForecastProgress(run_id="", phase="starting", cursor="", totals=ForecastTotals())

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> ForecastProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: ForecastRunInput) -> ForecastRunResult:
        run_id = inp.run_id or workflow.info().workflow_id
        totals = inp.totals or ForecastTotals()
        p = self._progress = ForecastProgress(
            run_id=run_id, phase="syncing", cursor=inp.cursor, totals=totals
        )
        beat = timedelta(seconds=inp.heartbeat_seconds)
        start = inp.start
        try:
            if start is None:
                await workflow.execute_activity_method(
                    SalesActivities.sync_orders, SyncOrdersInput(),
                    start_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=beat, retry_policy=STEADY,
                )  # fmt: skip
                p.phase = "starting"
                start = await workflow.execute_activity_method(
                    ForecastActivities.start_run,
                    StartForecastInput(run_id=run_id, retrain=inp.retrain, requested_by=inp.requested_by),
                    start_to_close_timeout=DB_BATCH, retry_policy=STEADY,
                )  # fmt: skip
            p.phase, cursor = "forecasting", inp.cursor
            while True:
                batch = await workflow.execute_activity_method(
                    ForecastActivities.forecast_batch,
                    ForecastBatchInput(run_id=run_id, after_sku=cursor, limit=inp.batch_size or start.batch_size,
                                       retrain=start.retrain, today=start.today),
                    start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=beat, retry_policy=STEADY,
                )  # fmt: skip
                totals.add(batch.totals)
                if batch.last_sku is not None:
                    p.cursor = cursor = batch.last_sku
                if batch.done or batch.last_sku is None:
                    break
                if workflow.info().is_continue_as_new_suggested():
                    workflow.continue_as_new(
                        inp.model_copy(
                            update={"run_id": run_id, "cursor": cursor, "totals": totals, "start": start}
                        )
                    )
        except ActivityError as exc:
            p.phase = "failed"
            await self._finish(run_id, "failed", totals, str(exc.cause or exc)[:2000])
            raise
        summary = await self._finish(run_id, "completed", totals, None)
        p.phase = "analytics"
        analytics: AnalyticsRefreshResult | None = None
        try:
            analytics = await workflow.execute_activity_method(
                AnalyticsActivities.refresh, AnalyticsRefreshInput(run_id=run_id, today=start.today),
                start_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=beat, retry_policy=STEADY,
            )  # fmt: skip
        except ActivityError as exc:  # the forecasts stand; yesterday's analytics stay on show
            workflow.logger.warning("analytics refresh failed: %s", exc.cause or exc)
        child_id = None
        if inp.replenish:
            p.phase = "replenishment"
            child_id = replenish_workflow_id(run_id)
            try:
                await workflow.execute_child_workflow(
                    REPLENISH_WORKFLOW, ReplenishRunInput(run_id=run_id, today=start.today),
                    id=child_id, parent_close_policy=ParentClosePolicy.ABANDON,
                )  # fmt: skip
            except ChildWorkflowError as exc:
                workflow.logger.warning("replenishment run failed: %s", exc.cause or exc)
        p.phase = "done"
        return ForecastRunResult(summary=summary, analytics=analytics, replenishment_workflow_id=child_id)

    async def _finish(self, run_id: str, status: str, totals: ForecastTotals, error: str | None):  # type: ignore[no-untyped-def]
        return await workflow.execute_activity_method(
            ForecastActivities.finish_run,
            FinishForecastInput(run_id=run_id, status=status, totals=totals, error=error),  # type: ignore[arg-type]
            start_to_close_timeout=DB_BATCH, retry_policy=STEADY,
        )  # fmt: skip
