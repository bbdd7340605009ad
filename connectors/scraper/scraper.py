"""CompetitorScraper: guard -> robots.txt -> per-domain rate and concurrency -> fetch -> extract."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import structlog

from connectors.ratelimit import TokenBucket
from connectors.scraper.extract import extract_offers
from connectors.scraper.fetch import BrowserPageFetcher, HttpPageFetcher, PageFetcher
from connectors.scraper.guard import ScrapeRefused
from connectors.scraper.robots import RobotsCache
from domain.repricing.competitors import OfferFacts
from merchflow.settings import ScraperSettings
from merchflow.telemetry.metrics import SCRAPES

log = structlog.get_logger("connectors.scraper")


@dataclass
class ScrapeResult:
    url: str
    status: str  # ok | refused | disallowed | http_error | error | no_data
    method: str = "none"  # json-ld | microdata | css | none
    offers: list[OfferFacts] = field(default_factory=list)
    message: str | None = None
    http_status: int | None = None


class CompetitorScraper:
    def __init__(
        self,
        settings: ScraperSettings,
        *,
        http: PageFetcher | None = None,
        browser: PageFetcher | None = None,
    ) -> None:
        self.settings = settings
        self.http = http or HttpPageFetcher(
            user_agent=settings.user_agent,
            timeout=settings.timeout_seconds,
            max_bytes=settings.max_page_bytes,
            allowed_private_hosts=settings.allowed_private_hosts,
        )
        self._browser = browser
        self._buckets: dict[str, TokenBucket] = {}
        self._sems: dict[str, asyncio.Semaphore] = {}
        self.robots = RobotsCache(self._fetch_robots, settings.user_agent)

    @property
    def browser(self) -> PageFetcher:
        if self._browser is None:
            s = self.settings
            self._browser = BrowserPageFetcher(
                executable=s.browser_executable,
                user_agent=s.user_agent,
                timeout=s.timeout_seconds,
                allowed_private_hosts=s.allowed_private_hosts,
            )
        return self._browser

    def _domain(self, url: str) -> str:
        return (urlsplit(url).netloc or "").lower()

    async def _polite(self, domain: str) -> asyncio.Semaphore:
        bucket = self._buckets.setdefault(domain, TokenBucket(rate=self.settings.per_domain_rate, burst=1.0))
        await bucket.acquire()
        return self._sems.setdefault(domain, asyncio.Semaphore(self.settings.per_domain_concurrency))

    async def _fetch_robots(self, url: str) -> tuple[int, str]:
        sem = await self._polite(self._domain(url))
        async with sem:
            page = await self.http.fetch(url)
        return page.status, page.text

    async def scrape(self, url: str) -> ScrapeResult:
        result = await self._scrape(url)
        SCRAPES.labels(result.status).inc()  # scrape outcomes
        return result

    async def _scrape(self, url: str) -> ScrapeResult:
        domain = self._domain(url)
        try:
            if not await self.robots.allowed(url):
                return ScrapeResult(
                    url, "disallowed", message="robots.txt disallows this page for our user agent"
                )
            sem = await self._polite(domain)
            fetcher = self.browser if domain in self.settings.browser_domains else self.http
            async with sem:
                page = await fetcher.fetch(url)
        except ScrapeRefused as exc:
            return ScrapeResult(url, "refused", message=str(exc))
        except Exception as exc:
            log.warning("scrape failed", domain=domain, error=type(exc).__name__)
            return ScrapeResult(url, "error", message=f"{type(exc).__name__}: {exc}"[:300])
        if page.status >= 400:
            return ScrapeResult(url, "http_error", http_status=page.status, message=f"HTTP {page.status}")
        rules = self.settings.selectors.get(domain) or self.settings.selectors.get(domain.split(":")[0])
        offers, method = extract_offers(page.text, page.url, rules)
        if not offers:
            return ScrapeResult(
                url, "no_data", method=method, http_status=page.status, message="no offer found"
            )
        return ScrapeResult(url, "ok", method=method, offers=offers, http_status=page.status)

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._browser is not None:
            await self._browser.aclose()
