"""ingest-product: one durable workflow per product, from its photos to its live listings.

analyse (decode, strip, hash, duplicates, barcodes, colours) -> identify (catalogs by identifier) -> read the
label (OCR, skipped when a catalog already named the product) -> draft (categories, LLM or offline) -> price and
requirements per marketplace -> save the draft -> a `listing_publish` decision (a child workflow: the policy
may auto-approve; its action publishes) -> the outcome.

The batch is told as soon as the draft is saved (its fan-out slot is free while the product waits for review).
When the LLM cost cap stops the draft, the batch is asked and the product waits for its answer.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ingest.activities import IngestActivities
    from workflows.common.retries import BOUNDED, FEW, HEARTBEAT
    from workflows.decisions.contract import (
        DECISION_WORKFLOW,
        DecisionInput,
        DecisionResult,
        decision_workflow_id,
    )
    from workflows.ingest.contract import (
        BUDGET_ANSWER_SIGNAL,
        BUDGET_SIGNAL,
        DRAFTED_SIGNAL,
        PRODUCT_WORKFLOW,
        BudgetAnswer,
        DraftInput,
        IdentifyResult,
        OutcomeInput,
        ProductDrafted,
        ProductInput,
        ProductRef,
        ProductResult,
        ReadTextInput,
        batch_workflow_id,
    )

_CPU = {
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": HEARTBEAT,
    "retry_policy": BOUNDED,
}
_NET = {
    "start_to_close_timeout": timedelta(minutes=5),
    "heartbeat_timeout": HEARTBEAT,
    "retry_policy": BOUNDED,
}
_DB = {"start_to_close_timeout": timedelta(minutes=1), "retry_policy": BOUNDED}


@workflow.defn(name=PRODUCT_WORKFLOW)
class IngestProductWorkflow:
    def __init__(self) -> None:
        self._budget: BudgetAnswer | None = None

    @workflow.signal(name=BUDGET_ANSWER_SIGNAL)
    def budget_answer(self, answer: BudgetAnswer) -> None:
        self._budget = answer

    @workflow.run
    async def run(self, inp: ProductInput) -> ProductResult:
        ref = ProductRef(product_id=inp.product_id, batch_id=inp.batch_id)
        analysed = await workflow.execute_activity_method(IngestActivities.analyse, ref, **_CPU)
        if analysed.status != "ok":
            await self._tell_batch(inp, analysed.status)
            return ProductResult(
                product_id=inp.product_id, status=analysed.status, message=analysed.reason or ""
            )
        identified = IdentifyResult(identified=False)
        if analysed.identifiers:
            try:  # enrichment: a marketplace that stays unreachable does not stop the draft
                identified = await workflow.execute_activity_method(
                    IngestActivities.identify,
                    ref,
                    start_to_close_timeout=timedelta(minutes=2),
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=FEW,
                )
            except ActivityError as exc:
                workflow.logger.warning("catalog lookups failed, drafting without them: %s", exc.cause or exc)
        await workflow.execute_activity_method(
            IngestActivities.read_text,
            ReadTextInput(product_id=inp.product_id, identified=identified.identified),
            **_CPU,
        )
        await self._draft(inp)
        await workflow.execute_activity_method(IngestActivities.price, ref, **_NET)
        saved = await workflow.execute_activity_method(IngestActivities.save_draft, ref, **_DB)
        await self._tell_batch(inp, "drafted")

        decision: DecisionResult = await workflow.execute_child_workflow(
            DECISION_WORKFLOW,
            DecisionInput(decision_id=saved.decision_id, proposal=saved.proposal),
            id=decision_workflow_id(saved.decision_id),
            result_type=DecisionResult,
        )
        outcome = await workflow.execute_activity_method(
            IngestActivities.record_outcome,
            OutcomeInput(
                product_id=inp.product_id,
                decision_status=decision.status,
                executed=decision.executed,
                message=decision.message,
            ),
            **_DB,
        )
        return ProductResult(
            product_id=inp.product_id,
            status=outcome.status,
            decision_status=decision.status,
            message=decision.message,
        )

    async def _draft(self, inp: ProductInput) -> None:
        offline = False
        while True:
            step = await workflow.execute_activity_method(
                IngestActivities.draft,
                DraftInput(product_id=inp.product_id, batch_id=inp.batch_id, offline_only=offline),
                **_NET,
            )
            if step.status == "drafted":
                return
            # the cost cap stops the LLM: the batch asks a person once for every product that waits
            assert step.budget is not None
            self._budget = None
            await workflow.get_external_workflow_handle(batch_workflow_id(inp.batch_id)).signal(
                BUDGET_SIGNAL, step.budget
            )
            await workflow.wait_condition(lambda: self._budget is not None)
            assert self._budget is not None
            offline = not self._budget.approved

    async def _tell_batch(self, inp: ProductInput, status: str) -> None:
        try:
            await workflow.get_external_workflow_handle(batch_workflow_id(inp.batch_id)).signal(
                DRAFTED_SIGNAL,
                ProductDrafted(product_id=inp.product_id, status=status),  # type: ignore[arg-type]
            )
        except Exception as exc:  # the batch is gone (terminated by an operator): nothing waits for this
            workflow.logger.info("batch not told: %s", exc)
