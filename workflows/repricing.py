"""Nightly repricing: `reprice-run` (parent: start, train a first model, refresh competitor prices, one child per
marketplace account, finish) -> `reprice-account` (batches of SKUs in SKU order, each priced by one activity that
also writes its proposals / bulk decisions; auto-approved prices pushed per batch while the next batch is priced;
continue-as-new when suggested). The supporting workflows (`reprice-publish` for prices people approve later,
`demand-model-train`, `competitor-refresh`) are in workflows/repricing_jobs.py and registered from here.

Activities are called by name with typed payloads, so no pandas / database / connector code is imported here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.repricing_payloads import (
        PROGRESS_QUERY,
        AccountTotals,
        CompetitorRefreshInput,
        CompetitorRefreshResult,
        FeeRates,
        FeeRatesInput,
        FinishRunInput,
        PushPricesInput,
        PushPricesResult,
        RepriceAccountInput,
        RepriceBatchInput,
        RepriceBatchResult,
        RepriceProgress,
        RepriceRunInput,
        RepriceRunResult,
        RunPhase,
        RunSummary,
        StartRunInput,
        StartRunResult,
        TrainInput,
        TrainResult,
    )
    from merchflow.decisions.payloads import DeliverInput, DeliverResult
    from workflows.repricing_jobs import (
        FEW,
        ITEM_RETRIES,
        CompetitorRefreshWorkflow,
        DemandModelTrainWorkflow,
        RepricePublishWorkflow,
        act,
    )


async def push_with_item_retries(
    inp: PushPricesInput, heartbeat: timedelta = timedelta(minutes=1)
) -> PushPricesResult:
    """Push a range of approved prices, then retry the items that failed (they keep their target price, so each
    retry reads just those), with backoff, a bounded number of times."""

    async def push(key: str) -> PushPricesResult:
        p = inp.model_copy(update={"idempotency_key": key})
        return await act("reprice-push-prices", p, PushPricesResult, timedelta(minutes=30),
                          heartbeat_timeout=heartbeat)  # fmt: skip

    r = await push(inp.idempotency_key)
    total = r.model_copy()
    for attempt in range(ITEM_RETRIES):
        if not r.retryable:
            break
        await workflow.sleep(timedelta(seconds=min(30, 2**attempt)))
        r = await push(f"{inp.idempotency_key}:retry{attempt}")
        total.applied, total.rejected, total.retryable = (
            total.applied + r.applied,
            total.rejected + r.rejected,
            r.retryable,
        )
    return total


@workflow.defn(name="reprice-account")
class RepriceAccountWorkflow:
    def __init__(self) -> None:
        self._progress: RepriceProgress | None = None
        self._pushing: asyncio.Task[PushPricesResult] | None = None

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
        fees = inp.fees or await act(
            "reprice-fee-rates", FeeRatesInput(account_id=inp.account.account_id, filters=inp.filters), FeeRates,
            timedelta(minutes=10), heartbeat_timeout=timedelta(minutes=2),
        )  # fmt: skip
        p.phase, cursor = "pricing", inp.cursor
        beat = timedelta(seconds=inp.heartbeat_seconds)
        while True:
            batch: RepriceBatchResult = await act(
                "reprice-batch",
                RepriceBatchInput(
                    run_id=inp.run_id, account_id=inp.account.account_id, marketplace=inp.account.marketplace,
                    dry_run=inp.dry_run, filters=inp.filters, after_sku=cursor, limit=inp.batch_size,
                    today=inp.today, fees=fees,
                ),
                RepriceBatchResult,
                timedelta(minutes=10),
                heartbeat_timeout=beat,
            )  # fmt: skip
            totals.add(batch.totals)
            if batch.last_sku is None:
                break
            if not inp.dry_run and batch.totals.auto_approved:
                # this batch's pushes overlap the next batch's pricing; one push in flight per account
                await self._collect(totals)
                key = f"{inp.run_id}:{inp.account.account_id}:{batch.last_sku}"
                self._pushing = asyncio.create_task(push_with_item_retries(PushPricesInput(
                    account_id=inp.account.account_id, after_sku=cursor, through_sku=batch.last_sku,
                    limit=25_000, idempotency_key=key,
                ), beat))  # fmt: skip
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

    async def _collect(self, totals: AccountTotals) -> None:
        if self._pushing is None:
            return
        r, self._pushing = await self._pushing, None
        totals.pushed += r.applied
        totals.push_rejected += r.rejected
        totals.push_failed += r.retryable


@workflow.defn(name="reprice-run")
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
            start: StartRunResult = await act(
                "reprice-start-run",
                StartRunInput(
                    run_id=run_id, dry_run=inp.dry_run, filters=inp.filters, requested_by=inp.requested_by
                ),
                StartRunResult,
            )
            if start.needs_model:
                ph.phase = "training"
                await self._child("demand-model-train", TrainInput(), f"{run_id}-train", TrainResult)
            if inp.refresh_competitors and start.accounts:
                ph.phase = "competitors"
                refresh = CompetitorRefreshInput(
                    accounts=start.accounts, filters=inp.filters, scraper_queue=start.scraper_queue
                )
                await self._child(
                    "competitor-refresh", refresh, f"{run_id}-competitors", CompetitorRefreshResult
                )
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
            await act("reprice-finish-run", FinishRunInput(run_id=run_id, status="failed", totals=totals,
                                                            error=str(exc)[:2000]), RunSummary)  # fmt: skip
            raise
        ph.phase = "finishing"
        status = "failed" if failed and len(failed) == len(start.accounts) else "completed"
        summary: RunSummary = await act(
            "reprice-finish-run",
            FinishRunInput(
                run_id=run_id, status=status, totals=totals, error="; ".join(failed)[:2000] or None
            ),
            RunSummary,
        )
        summary.accounts = dict(ph.finished)
        if summary.notify_outbox_id is not None:
            try:
                await act("decision.deliver_notification", DeliverInput(outbox_id=summary.notify_outbox_id),
                           DeliverResult, timedelta(minutes=1), retry_policy=FEW)  # fmt: skip
            except ActivityError as exc:
                workflow.logger.warning("approval notice not delivered (kept in the outbox): %s", exc)
        ph.phase = "done"
        return RepriceRunResult(summary=summary)

    async def _child(self, name: str, arg: Any, child_id: str, result: type) -> Any:
        """Training and competitor refresh improve a run but must not stop it: failures are logged."""
        self._phase.children.append(child_id)
        try:
            return await workflow.execute_child_workflow(
                name, arg, id=child_id, result_type=result, parent_close_policy=ParentClosePolicy.TERMINATE
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


WORKFLOWS: list[type] = [
    RepriceRunWorkflow,
    RepriceAccountWorkflow,
    RepricePublishWorkflow,
    DemandModelTrainWorkflow,
    CompetitorRefreshWorkflow,
]
