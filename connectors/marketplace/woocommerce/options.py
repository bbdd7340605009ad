"""Account options (marketplace_account.config) the WooCommerce adapter reads. All optional."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.marketplace.woocommerce.auth import AuthMode


class WooOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # "auto": HTTP Basic, falling back to query-string keys if the host strips the Authorization header
    auth: AuthMode = "auto"
    # WooCommerce core has no rate limit; hosts do. A polite default for a shared host: 10 requests/s, burst 10.
    # 0 disables the client-side bucket (a 429 + Retry-After from the host is still honoured).
    rate_per_second: float = Field(10.0, ge=0)
    rate_burst: float = Field(10.0, gt=0)
    concurrency: int = Field(4, ge=1, le=32)  # batch requests in flight: PHP workers per site are few
    batch_size: int = Field(100, ge=1, le=100)
    page_size: int = Field(100, ge=1, le=100)
    orders_page_size: int = Field(100, ge=1, le=100)
    # orders changed within this many seconds of the site's clock wait for the next poll (see orders.py)
    orders_settle_seconds: int = Field(2, ge=0, le=300)
    # how end_listing ends one: unpublish (draft / private) or delete for good (DELETE ?force=true)
    end_mode: Literal["draft", "private", "delete"] = "draft"
    currency: str = "USD"  # the store's currency (WooCommerce has exactly one); prices in others are refused
    max_retries: int = Field(4, ge=0, le=10)
    # Woo accepts consumer keys over plain HTTP only with OAuth 1.0a signatures (not implemented): refuse http://
    # except for the local sandbox / loopback hosts, or when this is set deliberately.
    allow_insecure_http: bool = False
