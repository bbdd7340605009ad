"""`reprice-publish`: pushes one account's approved target prices (decisions people approved after the run) until
none is left; started or nudged (signal "more") by the decision executor, so an approval is never left behind."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.repricing.market import RepricingMarketActivities
    from workflows.common.retries import ITEM_RETRIES, STEADY, item_backoff
    from workflows.repricing.contract import (
        PUBLISH_SIGNAL,
        PUBLISH_WORKFLOW,
        PublishKick,
        PublishPricesInput,
        PublishPricesResult,
        PushPricesInput,
    )


@workflow.defn(name=PUBLISH_WORKFLOW)
class RepricePublishWorkflow:
    def __init__(self) -> None:
        self._more = False

    @workflow.signal(name=PUBLISH_SIGNAL)
    def more(self, _: PublishKick) -> None:
        self._more = True

    @workflow.run
    async def run(self, inp: PublishPricesInput) -> PublishPricesResult:
        out = PublishPricesResult(account_id=inp.account_id, applied=0, rejected=0, still_failing=0)
        n = 0
        while True:
            self._more = False
            for attempt in range(ITEM_RETRIES + 1):
                if attempt:
                    await workflow.sleep(item_backoff(attempt))
                cursor, left = "", 0
                while True:  # one pass over the account's waiting targets, a page at a time
                    n += 1
                    r = await workflow.execute_activity_method(
                        RepricingMarketActivities.push_prices,
                        PushPricesInput(
                            account_id=inp.account_id, after_sku=cursor, limit=inp.page_size,
                            idempotency_key=f"{workflow.info().run_id}:{n}",
                        ),
                        start_to_close_timeout=timedelta(minutes=30),
                        heartbeat_timeout=timedelta(minutes=2),
                        retry_policy=STEADY,
                    )  # fmt: skip
                    out.applied, out.rejected, left = (
                        out.applied + r.applied,
                        out.rejected + r.rejected,
                        left + r.retryable,
                    )
                    if not r.more or r.last_sku is None:
                        break
                    cursor = r.last_sku
                out.still_failing = left
                if not left:
                    break
            if not self._more:
                return out
