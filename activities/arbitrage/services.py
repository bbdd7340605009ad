"""The arbitrage loop's connectors, built once per worker process by the composition root (`wire_arbitrage`, called
from workers/build.py): offer sources, the payments port, market data. Built lazily, on first use, because the
marketplace accounts they read come from the database, which may not be migrated when the worker starts.
"""

from __future__ import annotations

import threading
from typing import Any

from connectors.arbitrage_sources.classifieds import ClassifiedsSource
from connectors.arbitrage_sources.ebay_browse import EbayBrowseSource
from connectors.arbitrage_sources.keepa import KeepaClient
from connectors.arbitrage_sources.market import MarketData
from connectors.arbitrage_sources.sandbox_defaults import CLASSIFIEDS_API_KEY
from connectors.arbitrage_sources.scraped import ScrapedSource
from connectors.payments.port import Payments
from connectors.payments.sandbox_defaults import SANDBOX_API_KEY
from connectors.payments.stripe_adapter import StripePayments
from connectors.ratelimit import RateLimiterRegistry
from merchflow.settings import Settings


class SourceUnknown(KeyError):
    pass


class ArbitrageServices:
    def __init__(
        self, settings: Settings, marketplaces: Any, limiter: RateLimiterRegistry | None = None
    ) -> None:
        self.settings = settings
        self.cfg = settings.arbitrage
        self.marketplaces = marketplaces  # connectors.marketplace.accounts.MarketplaceRegistry
        self.limiter = limiter or RateLimiterRegistry(enabled=settings.marketplace_rate_limits)
        self._lock = threading.Lock()
        self._sources: dict[str, Any] = {}
        self._payments: Payments | None = None
        self._market: MarketData | None = None
        self._scraper: Any = None

    # ---- sources ----------------------------------------------------------------------------------------------
    def source(self, name: str) -> Any:
        with self._lock:
            if name not in self._sources:
                self._sources[name] = self._build_source(name)
            return self._sources[name]

    def _build_source(self, name: str) -> Any:
        if name == "classifieds":
            key = (
                self.cfg.classifieds_api_key.get_secret_value()
                if self.cfg.classifieds_api_key
                else CLASSIFIEDS_API_KEY
            )
            return ClassifiedsSource(
                base_url=self.cfg.classifieds_base_url or self.settings.sandbox.base_url("classifieds"),
                api_key=key,
                limiter=self.limiter,
            )
        if name == "ebay":
            return EbayBrowseSource(self._account_adapter("ebay", self.cfg.ebay_account))
        if name.startswith("scraped:"):
            conf = self.cfg.scraped_sources.get(name.removeprefix("scraped:"))
            if conf is None:
                raise SourceUnknown(f"no scraped source {name!r} in MERCHFLOW_ARBITRAGE__SCRAPED_SOURCES")
            return ScrapedSource(self._scraper_instance(), search_url=conf.search_url,
                                 terms_allow_scraping=conf.terms_allow_scraping)  # fmt: skip
        raise SourceUnknown(f"unknown offer source {name!r}")

    def known_sources(self) -> list[str]:
        return ["classifieds", "ebay", *(f"scraped:{k}" for k in self.cfg.scraped_sources)]

    def _scraper_instance(self) -> Any:
        if self._scraper is None:
            from connectors.scraper.scraper import CompetitorScraper

            self._scraper = CompetitorScraper(self.settings.scraper)
        return self._scraper

    def _account_adapter(self, marketplace: str, name: str) -> Any:
        for acc in self.marketplaces.accounts(marketplace=marketplace):
            if acc.name == name and acc.account_id is not None:
                return self.marketplaces.get(acc.account_id)
        return None

    # ---- payments, market data --------------------------------------------------------------------------------
    @property
    def payments(self) -> Payments:
        with self._lock:
            if self._payments is None:
                key = (
                    self.cfg.payments_api_key.get_secret_value()
                    if self.cfg.payments_api_key
                    else SANDBOX_API_KEY
                )
                self._payments = StripePayments(
                    api_key=key,
                    base_url=self.cfg.payments_base_url or self.settings.sandbox.base_url("payments"),
                )
            return self._payments

    @property
    def market(self) -> MarketData:
        with self._lock:
            if self._market is None:
                keepa = None
                if self.cfg.keepa_api_key is not None:
                    keepa = KeepaClient(
                        key=self.cfg.keepa_api_key.get_secret_value(), limiter=self.limiter,
                        base_url=self.cfg.keepa_base_url, tokens_per_minute=self.cfg.keepa_tokens_per_minute,
                    )  # fmt: skip
                self._market = MarketData(
                    amazon=self._account_adapter("amazon", self.cfg.amazon_account),
                    ebay=self._account_adapter("ebay", self.cfg.ebay_account),
                    keepa=keepa,
                    ebay_sold=self.cfg.ebay_sold_prices,
                )
            return self._market

    def use(self, *, source: tuple[str, Any] | None = None, payments: Payments | None = None,
            market: MarketData | None = None) -> None:  # fmt: skip
        """Tests and benchmarks wire their own (a fake, a transport)."""
        if source is not None:
            self._sources[source[0]] = source[1]
        if payments is not None:
            self._payments = payments
        if market is not None:
            self._market = market


def wire_arbitrage(deps: Any) -> None:
    from connectors.marketplace.accounts import MarketplaceRegistry

    marketplaces = deps.services.get("marketplaces") or MarketplaceRegistry(deps.engine, deps.settings)
    deps.services["arbitrage"] = ArbitrageServices(deps.settings, marketplaces)


def services(deps: Any) -> ArbitrageServices:
    svc = deps.services.get("arbitrage")
    if svc is None:
        wire_arbitrage(deps)
        svc = deps.services["arbitrage"]
    return svc  # type: ignore[no-any-return]
