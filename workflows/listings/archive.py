"""product-archive: a product was archived (DELETE /api/v1/products/{sku}); its live listings are deactivated only
through a `listing_deactivate` decision (a child decision workflow under the type's autonomy policy). Once it is
executed, each listing is ended on its marketplace; rejected or expired, they stay as they are."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.listings.deactivate import ArchiveActivities
    from domain.decisions.rules import Proposal
    from workflows.common.retries import DB, FAST, PUSH, STEADY
    from workflows.decisions.contract import (
        DECISION_WORKFLOW,
        DecisionInput,
        DecisionResult,
        action_key,
        decision_workflow_id,
    )
    from workflows.listings.contract import (
        ARCHIVE_WORKFLOW,
        DEACTIVATE_DECISION,
        ArchiveInput,
        ArchiveResult,
        EndListingsInput,
        LinkedListingsInput,
    )


@workflow.defn(name=ARCHIVE_WORKFLOW)
class ProductArchiveWorkflow:
    @workflow.run
    async def run(self, inp: ArchiveInput) -> ArchiveResult:
        found = await workflow.execute_activity_method(
            ArchiveActivities.linked,
            LinkedListingsInput(sku=inp.sku),
            start_to_close_timeout=DB,
            retry_policy=FAST,
        )
        if not found.listings:
            return ArchiveResult(sku=inp.sku, listings=0)
        decision_id = f"archive-{inp.sku}-{inp.archived_at}"[:64]
        where = sorted({f"{x.marketplace} {x.account_name}" for x in found.listings})
        proposal = Proposal(
            decision_type=DEACTIVATE_DECISION,
            subject=inp.sku,
            confidence=1.0,
            current={"status": "archived", "listings": [x.listing_id for x in found.listings], "on": where},
            proposed={"action": "end these listings on their marketplaces"},
            reasoning=f"product {inp.sku} was archived by {inp.actor}; {len(found.listings)} listing(s) still sell it",
            requested_by=inp.actor,
        )
        decided: DecisionResult = await workflow.execute_child_workflow(
            DECISION_WORKFLOW,
            DecisionInput(decision_id=decision_id, proposal=proposal),
            id=decision_workflow_id(decision_id),
            result_type=DecisionResult,
        )
        result = ArchiveResult(
            sku=inp.sku, listings=len(found.listings), decision_id=decision_id, status=decided.status
        )
        if not decided.executed:
            return result
        ended = await workflow.execute_activity_method(
            ArchiveActivities.end_listings,
            EndListingsInput(
                sku=inp.sku, key=action_key(decision_id, decided.version), listings=found.listings
            ),
            start_to_close_timeout=PUSH,
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=STEADY,
        )
        return result.model_copy(update={"ended": ended.ended, "failed": ended.failed})
