"""`stock-publish`: after an adjustment or a receipt, push the SKUs' new availability to every channel listing them."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stock.activities import StockActivities
    from merchflow.temporal import SKU
    from workflows.common.retries import DB, FAST
    from workflows.stock.contract import PUBLISH_WORKFLOW, PublishInput, PublishResult
    from workflows.stock.pushes import push_with_item_retries


@workflow.defn(name=PUBLISH_WORKFLOW)
class StockPublishWorkflow:
    @workflow.run
    async def run(self, inp: PublishInput) -> PublishResult:
        if inp.skus:
            workflow.upsert_search_attributes([SKU.value_set(inp.skus[0])])
        targets = await workflow.execute_activity_method(
            StockActivities.accounts_listing, inp, start_to_close_timeout=DB, retry_policy=FAST
        )
        key = workflow.info().workflow_id
        pushes = await asyncio.gather(
            *(push_with_item_retries(a, inp.skus, inp.reason, f"{key}:{a}") for a in targets.account_ids)
        )
        result = PublishResult()
        for p in pushes:
            result.pushed[p.account_id] = sum(1 for i in p.items if i.status == "applied")
            bad = [i.sku for i in p.items if i.status not in ("applied", "skipped")]
            if bad:
                result.failed[p.account_id] = bad
        return result
