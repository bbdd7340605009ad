"""Full reconciliation: one child workflow per marketplace account, batches of SKUs per activity (never a workflow per
SKU), continue-as-new when suggested, progress through a query; the run row and drift report live in the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.stock.activities import StockActivities, StockReconcileActivities
    from merchflow.temporal import MARKETPLACE
    from workflows.common.retries import DB, FAST, HEARTBEAT
    from workflows.stock.contract import (
        CHILDREN_QUERY,
        PROGRESS_QUERY,
        RECONCILE_ACCOUNT_WORKFLOW,
        RECONCILE_WORKFLOW,
        AccountsInput,
        ReconcileAccountInput,
        ReconcileBatchInput,
        ReconcileInput,
        ReconcileProgress,
        ReconcileResult,
    )


@workflow.defn(name=RECONCILE_ACCOUNT_WORKFLOW)
class ReconcileAccountWorkflow:
    def __init__(self) -> None:
        self.progress: ReconcileProgress | None = None

    @workflow.query(name=PROGRESS_QUERY)
    def get_progress(self) -> ReconcileProgress | None:
        return self.progress

    @workflow.run
    async def run(self, inp: ReconcileAccountInput) -> ReconcileProgress:
        p = ReconcileProgress(
            run_id=inp.run_id,
            account_id=inp.account_id,
            status="running",
            batches=inp.batches,
            checked=inp.checked,
            drifted=inp.drifted,
            corrected=inp.corrected,
            failed=inp.failed,
            unknown=inp.unknown,
        )
        self.progress = p
        if not inp.started:
            await workflow.execute_activity_method(
                StockReconcileActivities.reconcile_start,
                ReconcileBatchInput(
                    run_id=inp.run_id,
                    account_id=inp.account_id,
                    cursor=None,
                    batch_size=inp.batch_size,
                    batch_no=0,
                ),
                start_to_close_timeout=DB,
                retry_policy=FAST,
            )
        cursor = inp.cursor
        try:
            while True:
                batch = await workflow.execute_activity_method(
                    StockReconcileActivities.reconcile_batch,
                    ReconcileBatchInput(
                        run_id=inp.run_id,
                        account_id=inp.account_id,
                        cursor=cursor,
                        batch_size=inp.batch_size,
                        batch_no=p.batches,
                    ),
                    start_to_close_timeout=timedelta(minutes=30),
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=FAST,
                )
                p.batches += 1
                p.checked += batch.checked
                p.drifted += batch.drifted
                p.corrected += batch.corrected
                p.failed += batch.failed
                p.unknown += batch.unknown
                cursor = batch.next_cursor
                if cursor is None:
                    break
                if workflow.info().is_continue_as_new_suggested():
                    workflow.continue_as_new(
                        ReconcileAccountInput(
                            run_id=inp.run_id,
                            account_id=inp.account_id,
                            batch_size=inp.batch_size,
                            cursor=cursor,
                            started=True,
                            batches=p.batches,
                            checked=p.checked,
                            drifted=p.drifted,
                            corrected=p.corrected,
                            failed=p.failed,
                            unknown=p.unknown,
                        )
                    )
        except ActivityError as exc:
            # A batch that cannot succeed (credentials refused, ...): close the run as failed, with the reason, and
            # without reporting listings as missing - this run did not see them all.
            p.status = "failed"
            p.error = str(exc.cause or exc)[:2000]
            await workflow.execute_activity_method(
                StockReconcileActivities.reconcile_close, p, start_to_close_timeout=DB, retry_policy=FAST
            )
            raise ApplicationError(
                f"reconcile of account {inp.account_id} failed: {p.error}", non_retryable=True
            ) from exc
        p.status = "completed"
        await workflow.execute_activity_method(
            StockReconcileActivities.reconcile_close,
            p,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=FAST,
        )
        return p


@workflow.defn(name=RECONCILE_WORKFLOW)
class ReconcileWorkflow:
    """One full reconciliation: a child per marketplace account, run side by side."""

    def __init__(self) -> None:
        self.children: list[str] = []

    @workflow.query(name=CHILDREN_QUERY)
    def get_children(self) -> list[str]:
        return self.children

    @workflow.run
    async def run(self, inp: ReconcileInput) -> ReconcileResult:
        found = await workflow.execute_activity_method(
            StockActivities.accounts,
            AccountsInput(account_ids=inp.account_ids),
            start_to_close_timeout=DB,
            retry_policy=FAST,
        )
        accounts = found.accounts
        parent = workflow.info().workflow_id
        handles = []
        for a in accounts:
            child_id = f"{parent}-account-{a.account_id}"
            self.children.append(child_id)
            handles.append(
                workflow.execute_child_workflow(
                    ReconcileAccountWorkflow.run,
                    ReconcileAccountInput(
                        run_id=child_id, account_id=a.account_id, batch_size=inp.batch_size
                    ),
                    id=child_id,
                    parent_close_policy=ParentClosePolicy.TERMINATE,
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(MARKETPLACE, a.marketplace)]
                    ),
                )
            )
        results = await asyncio.gather(*handles, return_exceptions=True)
        runs = []
        for a, r in zip(accounts, results, strict=True):
            if isinstance(r, BaseException):
                workflow.logger.warning("reconcile of account %s failed: %s", a.account_id, r)
                runs.append(
                    ReconcileProgress(
                        run_id=f"{parent}-account-{a.account_id}",
                        account_id=a.account_id,
                        status="failed",
                        batches=0,
                        checked=0,
                        drifted=0,
                        corrected=0,
                        failed=0,
                        unknown=0,
                    )
                )
            else:
                runs.append(r)
        return ReconcileResult(runs=runs)
