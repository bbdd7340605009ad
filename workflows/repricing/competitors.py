"""`competitor-refresh`: competitor prices from marketplace pricing APIs (per account) and from competitor pages
(scraper task queue), before a run prices. A source that keeps failing is skipped: stale competitor data only
makes the engine more conservative."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.repricing.market import RepricingMarketActivities
    from activities.repricing.scrape import CompetitorActivities
    from workflows.common.retries import DB_BATCH, FEW, STEADY
    from workflows.repricing.contract import (
        COMPETITOR_REFRESH_WORKFLOW,
        MARKET_PRICE_MARKETPLACES,
        CompetitorRefreshInput,
        CompetitorRefreshResult,
        MarketPricesInput,
        ScrapeCompetitorsInput,
        ScrapeTargetsInput,
    )


@workflow.defn(name=COMPETITOR_REFRESH_WORKFLOW)
class CompetitorRefreshWorkflow:
    @workflow.run
    async def run(self, inp: CompetitorRefreshInput) -> CompetitorRefreshResult:
        for idx in range(inp.account_index, len(inp.accounts)):
            a = inp.accounts[idx]
            cursor = inp.cursor if idx == inp.account_index else ""
            while a.marketplace in MARKET_PRICE_MARKETPLACES:
                try:
                    r = await workflow.execute_activity_method(
                        RepricingMarketActivities.market_prices,
                        MarketPricesInput(account_id=a.account_id, filters=inp.filters, after_sku=cursor),
                        start_to_close_timeout=timedelta(minutes=10),
                        heartbeat_timeout=timedelta(minutes=2),
                        retry_policy=FEW,
                    )
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
            t = await workflow.execute_activity_method(
                RepricingMarketActivities.scrape_targets,
                ScrapeTargetsInput(filters=inp.filters, after_sku=cursor),
                start_to_close_timeout=DB_BATCH,
                retry_policy=STEADY,
            )
            if t.targets:
                try:
                    res = await workflow.execute_activity_method(
                        CompetitorActivities.scrape_competitor_prices,
                        ScrapeCompetitorsInput(targets=t.targets),
                        task_queue=inp.scraper_queue,
                        start_to_close_timeout=timedelta(minutes=10),
                        schedule_to_close_timeout=timedelta(minutes=30),
                        heartbeat_timeout=timedelta(minutes=2),
                        retry_policy=FEW,
                    )
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
