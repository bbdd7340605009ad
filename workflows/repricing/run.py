"""Nightly repricing: `reprice-run` (parent: start, train a first model, refresh competitor prices, one child per
marketplace account, finish) -> `reprice-account` (batches of SKUs in SKU order, each priced by one activity that
also writes its proposals / bulk decisions; auto-approved prices pushed per batch while the next batches are priced,
batches growing from a small first one; continue-as-new when suggested). The supporting workflows are beside this module: publish.py, training.py,
competitors.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.decisions.activities import DecisionActivities
    from activities.repricing.activities import RepricingActivities
    from activities.repricing.market import RepricingMarketActivities
    from workflows.common.retries import DB_BATCH, FEW, STEADY, retry_failed_items
    from workflows.decisions.contract import DeliverInput
    from workflows.repricing.competitors import CompetitorRefreshWorkflow
    from workflows.repricing.contract import (
        ACCOUNT_WORKFLOW,
        PROGRESS_QUERY,
        RUN_WORKFLOW,
        AccountTotals,
        CompetitorRefreshInput,
        FeeRatesInput,
        FinishRunInput,
        PushPricesInput,
        PushPricesResult,
        RepriceAccountInput,
        RepriceBatchInput,
        RepriceProgress,
        RepriceRunInput,
        RepriceRunResult,
        RunPhase,
        StartRunInput,
        StartRunResult,
        TrainInput,
    )
    from workflows.repricing.training import DemandModelTrainWorkflow


# Pipelining (patch PIPELINE_PATCH; runs started before it keep full batches and one push in flight): an account's
# first marketplace call waits for its first batch to be priced and decided, so batches start small and grow to
# batch_size (250, 1,000, 4,000, ...) while the pushes run; and two pushes may be in flight per account, so one
# range's marketplace calls overlap the previous range's recording (which waits its turn for the database).
PIPELINE_PATCH = "reprice-ramp-up-and-two-pushes"
FIRST_BATCH = 250
PUSHES_IN_FLIGHT = 2


def ramp(batch_size: int, batches_done: int) -> int:
    return min(batch_size, FIRST_BATCH * 4 ** min(batches_done, 8))


async def push_with_item_retries(
    inp: PushPricesInput, heartbeat: timedelta = timedelta(minutes=1)
) -> PushPricesResult:
    """Push a range of approved prices, then retry the items that failed (they keep their target price, so each
    retry reads just those), with backoff, a bounded number of times."""
    total: PushPricesResult | None = None

    async def push_round(key: str) -> bool:
        nonlocal total
        r = await workflow.execute_activity_method(
            RepricingMarketActivities.push_prices,
            inp.model_copy(update={"idempotency_key": key}),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=heartbeat,
            retry_policy=STEADY,
        )
        if total is None:
            total = r.model_copy(deep=True)
        else:
            total.applied, total.rejected, total.retryable = (
                total.applied + r.applied,
                total.rejected + r.rejected,
                r.retryable,
            )
            for phase, seconds in r.phase_seconds.items():
                total.phase_seconds[phase] = round(total.phase_seconds.get(phase, 0.0) + seconds, 3)
        return r.retryable > 0

    await retry_failed_items(push_round, inp.idempotency_key)
    assert total is not None
    return total


@workflow.defn(name=ACCOUNT_WORKFLOW)
class RepriceAccountWorkflow:
    def __init__(self) -> None:
        self._progress: RepriceProgress | None = None
        self._pushing: list[asyncio.Task[PushPricesResult]] = []

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> RepriceProgress | None:
        return self._progress

    @workflow.run
    async def run(self, inp: RepriceAccountInput) -> AccountTotals:
        totals = inp.totals or AccountTotals()
        p = self._progress = RepriceProgress(
            run_id=inp.run_id, account_id=inp.account.account_id, marketplace=inp.account.marketplace,
            status="running", phase="fees", cursor=inp.cursor, totals=totals,
        )  # fmt: skip
        fees = inp.fees or await workflow.execute_activity_method(
            RepricingMarketActivities.fee_rates,
            FeeRatesInput(account_id=inp.account.account_id, filters=inp.filters),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=STEADY,
        )
        p.phase, cursor = "pricing", inp.cursor
        beat = timedelta(seconds=inp.heartbeat_seconds)
        pipelined = workflow.patched(PIPELINE_PATCH)
        in_flight = PUSHES_IN_FLIGHT if pipelined else 1
        while True:
            limit = ramp(inp.batch_size, totals.batches) if pipelined else inp.batch_size
            batch = await workflow.execute_activity_method(
                RepricingActivities.price_batch,
                RepriceBatchInput(
                    run_id=inp.run_id, account_id=inp.account.account_id, marketplace=inp.account.marketplace,
                    dry_run=inp.dry_run, filters=inp.filters, after_sku=cursor, limit=limit,
                    today=inp.today, fees=fees,
                ),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=beat,
                retry_policy=STEADY,
            )  # fmt: skip
            totals.add(batch.totals)
            if batch.last_sku is None:
                break
            if not inp.dry_run and batch.totals.auto_approved:
                # this batch's pushes overlap the next batch's pricing (and the previous push's end)
                await self._collect(totals, keep=in_flight - 1)
                key = f"{inp.run_id}:{inp.account.account_id}:{batch.last_sku}"
                self._pushing.append(asyncio.create_task(push_with_item_retries(PushPricesInput(
                    account_id=inp.account.account_id, after_sku=cursor, through_sku=batch.last_sku,
                    limit=25_000, idempotency_key=key,
                ), beat)))  # fmt: skip
            p.cursor = cursor = batch.last_sku
            if batch.done:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._collect(totals)
                workflow.continue_as_new(
                    inp.model_copy(update={"cursor": cursor, "totals": totals, "fees": fees})
                )
        p.phase = "pushing"
        await self._collect(totals)
        p.phase, p.status = "done", "completed"
        return totals

    async def _collect(self, totals: AccountTotals, keep: int = 0) -> None:
        """Wait for the oldest pushes until at most `keep` are in flight; count their outcomes."""
        while len(self._pushing) > keep:
            r = await self._pushing.pop(0)
            totals.pushed += r.applied
            totals.push_rejected += r.rejected
            totals.push_failed += r.retryable
            totals.add_seconds(r.phase_seconds)


@workflow.defn(name=RUN_WORKFLOW)
class RepriceRunWorkflow:
    def __init__(self) -> None:
        self._phase = RunPhase(run_id="", phase="starting", children=[])

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> RunPhase:
        return self._phase

    @workflow.run
    async def run(self, inp: RepriceRunInput) -> RepriceRunResult:
        run_id = workflow.info().workflow_id
        ph = self._phase = RunPhase(run_id=run_id, phase="starting", children=[])
        totals = AccountTotals()
        try:
            start = await workflow.execute_activity_method(
                RepricingActivities.start_run,
                StartRunInput(
                    run_id=run_id, dry_run=inp.dry_run, filters=inp.filters, requested_by=inp.requested_by
                ),
                start_to_close_timeout=DB_BATCH,
                retry_policy=STEADY,
            )
            if start.needs_model:
                ph.phase = "training"
                await self._child(DemandModelTrainWorkflow.run, TrainInput(), f"{run_id}-train")
            if inp.refresh_competitors and start.accounts:
                ph.phase = "competitors"
                refresh = CompetitorRefreshInput(
                    accounts=start.accounts, filters=inp.filters, scraper_queue=start.scraper_queue
                )
                await self._child(CompetitorRefreshWorkflow.run, refresh, f"{run_id}-competitors")
            ph.phase = "pricing"
            results = await asyncio.gather(
                *(self._account(run_id, inp, start, a) for a in start.accounts), return_exceptions=True
            )
            failed = []
            for a, r in zip(start.accounts, results, strict=True):
                if isinstance(r, BaseException):
                    workflow.logger.warning("repricing account %s failed: %s", a.account_id, r)
                    failed.append(f"account {a.account_id}: {r}")
                    continue
                ph.finished[a.account_id] = r
                totals.add(r)
        except Exception as exc:
            ph.phase = "failed"
            await workflow.execute_activity_method(
                RepricingActivities.finish_run,
                FinishRunInput(run_id=run_id, status="failed", totals=totals, error=str(exc)[:2000]),
                start_to_close_timeout=DB_BATCH,
                retry_policy=STEADY,
            )
            raise
        ph.phase = "finishing"
        status = "failed" if failed and len(failed) == len(start.accounts) else "completed"
        summary = await workflow.execute_activity_method(
            RepricingActivities.finish_run,
            FinishRunInput(
                run_id=run_id, status=status, totals=totals, error="; ".join(failed)[:2000] or None
            ),
            start_to_close_timeout=DB_BATCH,
            retry_policy=STEADY,
        )
        summary.accounts = dict(ph.finished)
        if summary.notify_outbox_id is not None:
            try:
                await workflow.execute_activity_method(
                    DecisionActivities.deliver_notification,
                    DeliverInput(outbox_id=summary.notify_outbox_id),
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=FEW,
                )
            except ActivityError as exc:
                workflow.logger.warning("approval notice not delivered (kept in the outbox): %s", exc)
        ph.phase = "done"
        return RepriceRunResult(summary=summary)

    async def _child(self, run: Any, arg: Any, child_id: str) -> Any:
        """Training and competitor refresh improve a run but must not stop it: failures are logged."""
        self._phase.children.append(child_id)
        try:
            return await workflow.execute_child_workflow(
                run, arg, id=child_id, parent_close_policy=ParentClosePolicy.TERMINATE
            )
        except ChildWorkflowError as exc:
            workflow.logger.warning("%s failed; repricing goes on with the data it has: %s", child_id, exc)
            return None

    async def _account(
        self, run_id: str, inp: RepriceRunInput, start: StartRunResult, a: Any
    ) -> AccountTotals:
        child_id = f"{run_id}-account-{a.account_id}"
        self._phase.children.append(child_id)
        return await workflow.execute_child_workflow(  # type: ignore[no-any-return]
            RepriceAccountWorkflow.run,
            RepriceAccountInput(
                run_id=run_id, account=a, dry_run=inp.dry_run, filters=inp.filters,
                batch_size=inp.batch_size or start.batch_size, today=start.today,
                heartbeat_seconds=inp.heartbeat_seconds,
            ),
            id=child_id,
            parent_close_policy=ParentClosePolicy.TERMINATE,
        )  # fmt: skip
