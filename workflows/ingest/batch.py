"""ingest-batch: the parent of a batch's product workflows.

Starts one `ingest-product` child per product, page by page, with at most `max_parallel` being analysed and
drafted at once (a child frees its slot when its draft is saved, not when it is published: a product may wait days
for review). Children outlive the batch run (parent-close policy ABANDON), so the batch continues as new every
`products_per_run` products or when Temporal suggests it, carrying its cursor and the children still drafting.

When a product's draft hits the LLM cost cap, the batch asks once through an `llm_budget` decision for every
product that waits, and answers them all: go on with the raised cap, or draft offline.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.ingest.activities import IngestActivities
    from domain.decisions.rules import Proposal
    from workflows.common.retries import BOUNDED
    from workflows.decisions.contract import (
        DECISION_WORKFLOW,
        DecisionInput,
        DecisionResult,
        decision_workflow_id,
    )
    from workflows.ingest.contract import (
        BATCH_WORKFLOW,
        BUDGET_ANSWER_SIGNAL,
        BUDGET_SIGNAL,
        DRAFTED_SIGNAL,
        LLM_BUDGET,
        PRODUCT_WORKFLOW,
        PROGRESS_QUERY,
        BatchInput,
        BatchPageInput,
        BatchProgress,
        BatchResult,
        BatchStatusInput,
        BudgetAnswer,
        BudgetNeeded,
        ProductDrafted,
        ProductInput,
        budget_decision_id,
        product_workflow_id,
    )

_DB = {"start_to_close_timeout": timedelta(minutes=1), "retry_policy": BOUNDED}


@workflow.defn(name=BATCH_WORKFLOW)
class IngestBatchWorkflow:
    @workflow.init
    def __init__(self, inp: BatchInput) -> None:
        self._inp = inp
        self._active: set[str] = set(inp.active)
        self._started = inp.started
        self._finished = inp.finished
        self._asks: list[BudgetNeeded] = []  # products waiting for an answer about the cost cap
        self._round = inp.budget_round
        self._asking: asyncio.Task[None] | None = None
        self._done = False

    @workflow.signal(name=DRAFTED_SIGNAL)
    def product_drafted(self, done: ProductDrafted) -> None:
        if done.product_id in self._active:
            self._active.discard(done.product_id)
        self._finished += 1

    @workflow.signal(name=BUDGET_SIGNAL)
    def budget_needed(self, ask: BudgetNeeded) -> None:
        self._asks.append(ask)

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> BatchProgress:
        return BatchProgress(
            batch_id=self._inp.batch_id,
            started=self._started,
            finished=self._finished,
            active=len(self._active),
            waiting_for_budget=len(self._asks),
            done=self._done,
        )

    @workflow.run
    async def run(self, inp: BatchInput) -> BatchResult:
        await workflow.execute_activity_method(
            IngestActivities.batch_status, BatchStatusInput(batch_id=inp.batch_id, status="running"), **_DB
        )
        cursor, started_this_run = inp.cursor, 0
        while True:
            page = await workflow.execute_activity_method(
                IngestActivities.batch_page,
                BatchPageInput(
                    batch_id=inp.batch_id, after_position=cursor, limit=min(500, inp.products_per_run)
                ),
                **_DB,
            )
            for product_id in page.product_ids:
                await self._wait(lambda: len(self._active) < inp.max_parallel)
                await self._start(inp, product_id)
                started_this_run += 1
            cursor = page.last_position
            if not page.product_ids:
                break
            if started_this_run >= inp.products_per_run or workflow.info().is_continue_as_new_suggested():
                await self._wait(lambda: not self._asks and self._asking is None)
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    inp.model_copy(
                        update={
                            "cursor": cursor,
                            "started": self._started,
                            "finished": self._finished,
                            "active": sorted(self._active),
                            "budget_round": self._round,
                        }
                    )
                )
        await self._wait(lambda: not self._active)
        done = await workflow.execute_activity_method(
            IngestActivities.batch_status, BatchStatusInput(batch_id=inp.batch_id, status="drafted"), **_DB
        )
        self._done = True
        return BatchResult(batch_id=inp.batch_id, products=done.products, finished=self._finished)

    async def _start(self, inp: BatchInput, product_id: str) -> None:
        try:
            await workflow.start_child_workflow(
                PRODUCT_WORKFLOW,
                ProductInput(product_id=product_id, batch_id=inp.batch_id),
                id=product_workflow_id(product_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            # started by an earlier run of this batch: it reports on its own, and holds no slot here
            workflow.logger.info("product workflow already exists: %s", product_id)
        else:
            self._active.add(product_id)
        self._started += 1

    async def _wait(self, ready: object) -> None:
        """Wait for `ready()`, asking about the cost cap whenever products need it meanwhile."""
        while True:
            await workflow.wait_condition(lambda: ready() or (bool(self._asks) and self._asking is None))  # type: ignore[operator]
            if self._asks and self._asking is None:
                self._asking = asyncio.create_task(self._ask_budget())
                continue
            return

    async def _ask_budget(self) -> None:
        first = self._asks[0]
        self._round += 1
        decision_id = budget_decision_id(self._inp.batch_id, self._round)
        scope = f"{first.scope}:{first.key}"
        proposal = Proposal(
            decision_type=LLM_BUDGET,
            subject=f"LLM {first.scope} cost cap ({first.key})"[:200],
            current={"scope": scope, "spent": first.spent, "cap": first.cap, "batch_id": self._inp.batch_id},
            proposed={"amount": first.cap},
            confidence=0.0,
            reasoning=(
                f"The LLM {first.scope} cost cap of {first.cap} is reached ({first.spent} spent): products of batch "
                f"{self._inp.batch_id} wait for their drafts. Approve to raise the cap by the amount (editable); "
                "reject to finish them with offline drafts."
            ),
        )
        try:
            result: DecisionResult = await workflow.execute_child_workflow(
                DECISION_WORKFLOW,
                DecisionInput(decision_id=decision_id, proposal=proposal),
                id=decision_workflow_id(decision_id),
                result_type=DecisionResult,
            )
            answer = BudgetAnswer(approved=result.executed, message=result.message)
        except ChildWorkflowError as exc:  # the decision could not be asked: nobody raised the cap
            answer = BudgetAnswer(approved=False, message=f"the budget decision failed: {exc.cause or exc}")
        waiting, self._asks = self._asks, []
        for ask in waiting:
            await workflow.get_external_workflow_handle(product_workflow_id(ask.product_id)).signal(
                BUDGET_ANSWER_SIGNAL, answer
            )
        self._asking = None
