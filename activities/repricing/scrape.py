"""Competitor prices from web pages: scrape (cached 24 h), match to our SKU, validate, store. Runs on the `scraper`
task queue so browser work never starves the main workers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio import activity

from activities.repricing.tables import CompetitorPrice
from connectors.scraper.scraper import CompetitorScraper
from domain.repricing.competitors import OurProduct, match_offer, validate_offer_price
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from workers.deps import Deps
from workflows.repricing.contract import (
    ScrapeCompetitorsInput,
    ScrapeCompetitorsResult,
    ScrapeOutcome,
    ScrapeTarget,
)


class CompetitorActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine: sa.Engine = deps.engine
        self.settings = deps.settings.scraper
        self._scraper: CompetitorScraper | None = deps.services.get("scraper")

    @property
    def scraper(self) -> CompetitorScraper:
        if self._scraper is None:
            self._scraper = CompetitorScraper(self.settings)
        return self._scraper

    def _load(self, skus: set[str]) -> tuple[dict[str, Product], dict[tuple[str, str], CompetitorPrice]]:
        since = utcnow() - timedelta(hours=self.settings.cache_hours)
        with Session(self.engine) as s:
            products = {p.sku: p for p in s.exec(select(Product).where(Product.sku.in_(skus))).all()}  # type: ignore[attr-defined]
            fresh = s.exec(
                select(CompetitorPrice).where(
                    CompetitorPrice.sku.in_(skus),
                    CompetitorPrice.fetched_at >= since,  # type: ignore[attr-defined]
                )
            ).all()
        return products, {(c.sku, c.url or ""): c for c in fresh}

    def _store(self, rows: list[CompetitorPrice]) -> None:
        if rows:
            with Session(self.engine) as s:
                s.add_all(rows)
                s.commit()

    @activity.defn(name="scrape-competitor-prices")
    async def scrape_competitor_prices(self, inp: ScrapeCompetitorsInput) -> ScrapeCompetitorsResult:
        products, cache = await asyncio.to_thread(self._load, {t.sku for t in inp.targets})
        outcomes: list[ScrapeOutcome] = []
        to_store: list[CompetitorPrice] = []
        done = 0

        async def one(t: ScrapeTarget) -> None:
            nonlocal done
            product = products.get(t.sku)
            if product is None:
                outcomes.append(
                    ScrapeOutcome(sku=t.sku, url=t.url, status="unknown_sku", message="no such SKU")
                )
                return
            hit = cache.get((t.sku, t.url))
            if hit is not None and not inp.force:
                outcomes.append(
                    ScrapeOutcome(
                        sku=t.sku,
                        url=t.url,
                        status="cached",
                        price=hit.price,
                        currency=hit.currency,
                        matched_by=hit.matched_by,
                    )
                )
                return
            result = await self.scraper.scrape(t.url)
            done += 1
            activity.heartbeat({"scraped": done, "of": len(inp.targets)})
            if result.status != "ok":
                outcomes.append(
                    ScrapeOutcome(
                        sku=t.sku,
                        url=t.url,
                        status=result.status,
                        method=result.method,
                        message=result.message,
                    )
                )
                return
            ours = OurProduct(
                product.sku, product.name, product.cost, dict(product.attributes.get("identifiers", {}))
            )
            for offer in result.offers:
                matched = match_offer(offer, [ours])
                if matched is None:
                    continue
                problem = validate_offer_price(
                    offer.price, offer.currency, cost=product.cost, expected_currency=product.currency
                )
                if problem:
                    outcomes.append(
                        ScrapeOutcome(
                            sku=t.sku,
                            url=t.url,
                            status="rejected",
                            method=result.method,
                            matched_by=matched[1],
                            message=problem,
                        )
                    )
                    return
                to_store.append(
                    CompetitorPrice(
                        sku=t.sku,
                        source=urlsplit(t.url).netloc[:64],
                        url=t.url,
                        competitor=offer.seller,
                        price=offer.price,
                        currency=offer.currency or product.currency,
                        matched_by=matched[1],
                        fetched_at=utcnow(),
                    )
                )
                outcomes.append(
                    ScrapeOutcome(
                        sku=t.sku,
                        url=t.url,
                        status="stored",
                        price=offer.price,
                        currency=offer.currency,
                        matched_by=matched[1],
                        method=result.method,
                    )
                )
                return
            outcomes.append(
                ScrapeOutcome(
                    sku=t.sku,
                    url=t.url,
                    status="rejected",
                    method=result.method,
                    message="the page is about a different product (no identifier or title match)",
                )
            )

        await asyncio.gather(*(one(t) for t in inp.targets))
        await asyncio.to_thread(self._store, to_store)
        return ScrapeCompetitorsResult(outcomes=outcomes)
