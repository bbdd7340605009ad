"""Settings of the arbitrage loop (`MERCHFLOW_ARBITRAGE__...`): the rules (domain.arbitrage.config), where offers and
payments come from, and the timings of a deal. Kept beside `merchflow.settings`, which only names the group.

Empty base URLs mean the local sandboxes (`merchflow sandboxes`: classifieds on 8705, payments on 8706), with their
built-in keys; pointing at real services is a URL and a key.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from domain.arbitrage.config import ArbitrageConfig


class ScrapedSourceSettings(BaseModel):
    # e.g. "https://local.example/search?q={q}&page={page}"; fetched through the scraper (robots.txt, rate limits)
    search_url: str
    # must be set deliberately: a source is only scraped when its terms allow it
    terms_allow_scraping: bool = False


class ArbitrageSettings(BaseModel):
    rules: ArbitrageConfig = Field(default_factory=ArbitrageConfig)
    # classifieds marketplace API; empty: the classifieds sandbox
    classifieds_base_url: str | None = None
    classifieds_api_key: SecretStr | None = None
    classifieds_webhook_secret: SecretStr | None = None
    # card payments (Stripe PaymentIntents); empty: the payments sandbox
    payments_base_url: str | None = None
    payments_api_key: SecretStr | None = None
    payments_webhook_secret: SecretStr | None = None
    payment_method: str = "pm_card_visa"  # the saved card (Stripe PaymentMethod id) purchases are paid with
    # market data: the marketplace accounts (by name) whose APIs price offers
    amazon_account: str = "sandbox"
    ebay_account: str = "sandbox"
    ebay_sold_prices: bool = False  # eBay Marketplace Insights (limited release): only with access granted
    # Keepa-style price history, used only when a key is set
    keepa_api_key: SecretStr | None = None
    keepa_base_url: str = "https://api.keepa.com"
    keepa_tokens_per_minute: float = Field(20.0, gt=0)  # the plan's refill rate
    scraped_sources: dict[str, ScrapedSourceSettings] = Field(default_factory=dict)
    # scanning
    batch_size: int = Field(1000, ge=10, le=20_000)  # offers per scan activity
    page_size: int = Field(200, ge=1, le=200)  # offers per source request
    # a deal's clock
    delivery_timeout_hours: float = Field(336.0, gt=0, le=24 * 90)  # then: refund
    sale_check_minutes: float = Field(360.0, gt=0)  # how often a listed deal looks for its sale
    max_hold_days: float = Field(180.0, gt=0, le=730)  # then: closed unsold
    # where received items are listed: marketplace account ids; empty: the enabled amazon and ebay accounts
    resale_account_ids: list[int] = Field(default_factory=list)
