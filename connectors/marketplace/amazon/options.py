"""Account options the Amazon adapter reads from `marketplace_account.config` (non-secret) - see README.md."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from connectors.marketplace.amazon.limits import MAX_FEED_MESSAGES

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret


class AmazonOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seller_id: str | None = None  # merchant token; may also come from the credentials (sandbox)
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"
    language_tag: str = "en_US"
    # None: Amazon's LWA endpoint for *.amazon.com base URLs, else "<base_url>/auth/o2/token" (the local sandbox)
    lwa_token_url: str | None = None
    token_refresh_margin_seconds: float = Field(60.0, ge=0)
    default_product_type: str = "PRODUCT"  # productType for PATCH messages when the listing's type is unknown
    fulfillment_channel_code: str = "DEFAULT"  # merchant-fulfilled quantity channel
    listings_source: Literal["listings", "fba_inventory"] = "listings"
    feed_max_messages: int = Field(MAX_FEED_MESSAGES, ge=1, le=MAX_FEED_MESSAGES)
    # set_quantities for at most this many SKUs goes through patchListingsItem (5/s, applied in seconds) instead of
    # a feed (minutes; 5 JSON_LISTINGS_FEEDs per 5 minutes): order pushes touch one or two SKUs. 0: always feeds.
    quantity_patch_max_skus: int = Field(10, ge=0)
    feed_concurrency: int = Field(5, ge=1)
    feed_poll_initial_seconds: float = Field(2.0, gt=0)
    feed_poll_max_seconds: float = Field(30.0, gt=0)
    feed_poll_factor: float = Field(1.5, ge=1)
    feed_timeout_seconds: float = Field(3600.0, gt=0)
    # An accepted message is only "applied" when the report's items show the new value (report includedData)
    confirm_via_report_items: bool = True
    confirm_listing_writes: bool = (
        True  # re-read a listing after put / patch / delete before calling it applied
    )
    orders_lookback_hours: float = Field(24 * 7, gt=0)
    orders_page_size: int = Field(100, ge=1, le=100)
    relay_tolerance_seconds: float = Field(300.0, gt=0)
    timeout_seconds: float | None = None  # per HTTP request; default AccountConfig.timeout_seconds
    max_retries: int = Field(4, ge=0)

    def token_url(self, base_url: str) -> str:
        if self.lwa_token_url:
            return self.lwa_token_url
        host = urlsplit(base_url).hostname or ""
        if host == "amazon.com" or host.endswith(".amazon.com"):
            return LWA_TOKEN_URL
        return base_url.rstrip("/") + "/auth/o2/token"
