"""Repricing's supporting workflows: `reprice-publish` (pushes prices people approved after the run, per
account), `demand-model-train` (the weekly retrain) and `competitor-refresh` (marketplace pricing APIs and scraped
competitor pages, before a run prices), plus the activity-call helpers the repricing workflows share.

Activities are called by name with typed payloads, so no pandas / database / connector code is imported here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.repricing_payloads import (
        MARKET_PRICE_MARKETPLACES,
        PUBLISH_SIGNAL,
        CompetitorRefreshInput,
        CompetitorRefreshResult,
        MarketPricesInput,
        MarketPricesResult,
        PublishKick,
        PublishPricesInput,
        PublishPricesResult,
        PushPricesInput,
        PushPricesResult,
        ScrapeRequest,
        ScrapeSummary,
        ScrapeTargetsInput,
        ScrapeTargetsResult,
        TrainInput,
        TrainResult,
    )

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=300), maximum_interval=timedelta(minutes=1))
FEW = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
DB = timedelta(minutes=2)
ITEM_RETRIES = 5  # per-item push retries after the first attempt, with backoff


async def act(name: str, arg: Any, result: type, timeout: timedelta = DB, **kw: Any) -> Any:
    """An activity by name with a typed result and the repricing defaults (retry forever, backing off)."""
    kw.setdefault("retry_policy", RETRY)
    return await workflow.execute_activity(
        name, arg, result_type=result, start_to_close_timeout=timeout, **kw
    )


@workflow.defn(name="reprice-publish")
class RepricePublishWorkflow:
    """Pushes one account's approved target prices (decisions humans approved after the run) until none is left;
    started or nudged (signal "more") by the decision executor, so an approval is never left behind."""

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
                    await workflow.sleep(timedelta(seconds=min(30, 2**attempt)))
                cursor, left = "", 0
                while True:  # one pass over the account's waiting targets, a page at a time
                    n += 1
                    r = await act("reprice-push-prices", PushPricesInput(
                        account_id=inp.account_id, after_sku=cursor, limit=inp.page_size,
                        idempotency_key=f"{workflow.info().run_id}:{n}",
                    ), PushPricesResult, timedelta(minutes=30), heartbeat_timeout=timedelta(minutes=2))  # fmt: skip
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


@workflow.defn(name="demand-model-train")
class DemandModelTrainWorkflow:
    @workflow.run
    async def run(self, inp: TrainInput) -> TrainResult:
        return await act("demand-model-fit", inp, TrainResult, timedelta(minutes=30))  # type: ignore[no-any-return]


@workflow.defn(name="competitor-refresh")
class CompetitorRefreshWorkflow:
    """Competitor prices from marketplace pricing APIs (per account) and from competitor pages (scraper queue).
    A source that keeps failing is skipped: stale competitor data only makes the engine more conservative."""

    @workflow.run
    async def run(self, inp: CompetitorRefreshInput) -> CompetitorRefreshResult:
        for idx in range(inp.account_index, len(inp.accounts)):
            a = inp.accounts[idx]
            cursor = inp.cursor if idx == inp.account_index else ""
            while a.marketplace in MARKET_PRICE_MARKETPLACES:
                try:
                    r: MarketPricesResult = await act(
                        "reprice-market-prices",
                        MarketPricesInput(account_id=a.account_id, filters=inp.filters, after_sku=cursor),
                        MarketPricesResult, timedelta(minutes=10),
                        heartbeat_timeout=timedelta(minutes=2), retry_policy=FEW,
                    )  # fmt: skip
                except ActivityError as exc:
                    workflow.logger.warning("competitive prices of account %s skipped: %s", a.account_id, exc)
                    break
                inp.stored += r.stored
                if r.done or r.last_sku is None:
                    break
                cursor = r.last_sku
                if workflow.info().is_continue_as_new_suggested():
                    workflow.continue_as_new(inp.model_copy(update={"account_index": idx, "cursor": cursor}))
        cursor = inp.scrape_cursor
        while True:
            t: ScrapeTargetsResult = await act(
                "reprice-scrape-targets",
                ScrapeTargetsInput(filters=inp.filters, after_sku=cursor),
                ScrapeTargetsResult,
            )
            if t.targets:
                try:
                    res: ScrapeSummary = await act(
                        "scrape-competitor-prices", ScrapeRequest(targets=t.targets), ScrapeSummary,
                        timedelta(minutes=10), task_queue=inp.scraper_queue,
                        schedule_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=timedelta(minutes=2),
                        retry_policy=FEW,
                    )  # fmt: skip
                    inp.scraped += sum(1 for o in res.outcomes if o.status in ("stored", "cached"))
                except ActivityError as exc:
                    workflow.logger.warning("competitor pages skipped: %s", exc)
            if t.done or t.last_sku is None:
                break
            cursor = t.last_sku
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    inp.model_copy(update={"account_index": len(inp.accounts), "scrape_cursor": cursor})
                )
        return CompetitorRefreshResult(stored=inp.stored, scraped=inp.scraped)
