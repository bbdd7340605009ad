"""Request and response shapes of the accounts API. Secrets come in as SecretStr and never go out: an account shows
which credentials are set (and the last 4 of long ones), nothing more."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from domain.accounts.rules import shown_status
from domain.bounds import Flag, Whole
from merchflow.db.models import MarketplaceAccount

Marketplace = Literal["amazon", "ebay", "shopify", "woocommerce"]
BASE = "/api/v1/accounts"


class AccountCreate(BaseModel):
    marketplace: Marketplace
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    base_url: str | None = Field(default=None, max_length=500)
    region: str | None = Field(default=None, max_length=20)
    marketplace_ids: list[str] = Field(default_factory=list, max_length=20)
    options: dict[str, Any] = Field(default_factory=dict)
    # where the secrets are for those who keep them in the environment: MERCHFLOW_MARKETPLACE_CREDENTIALS__<REF>__*
    credentials_ref: str | None = Field(default=None, max_length=100)
    # pasted keys (e.g. WooCommerce consumer key / secret): stored encrypted, never shown again
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    safety_buffer: Whole = Field(default=0, ge=0, le=1_000_000)
    enabled: Flag = True


class AccountUpdate(BaseModel):
    name: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )
    base_url: str | None = Field(default=None, max_length=500)
    region: str | None = Field(default=None, max_length=20)
    marketplace_ids: list[str] | None = Field(default=None, max_length=20)
    options: dict[str, Any] | None = None  # merged: a null value removes that option
    credentials_ref: str | None = Field(default=None, max_length=100)
    credentials: dict[str, SecretStr] | None = None  # merged with the stored ones; "" removes a field
    safety_buffer: Whole | None = Field(default=None, ge=0, le=1_000_000)
    enabled: Flag | None = None


class ConnectRequest(BaseModel):
    shop: str | None = Field(
        default=None, max_length=255, description="Shopify: the shop's my-store.myshopify.com"
    )
    store_url: str | None = Field(
        default=None, max_length=500, description="WooCommerce: the store's https:// URL"
    )


class AccountLinks(BaseModel):
    self: str
    test: str
    connect: str
    listing_sync: str


class AccountOut(BaseModel):
    id: int
    marketplace: str
    name: str
    status: str  # connected | pending | needs_reauth | disabled
    status_reason: str | None
    enabled: bool
    base_url: str | None
    region: str | None
    marketplace_ids: list[str]
    options: dict[str, Any]
    credentials_ref: str | None
    credentials: dict[str, str]  # field -> "set" / "set, ends in abcd"
    safety_buffer: int
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    listing_sync: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    links: AccountLinks


class AccountList(BaseModel):
    items: list[AccountOut]


class ConnectOut(BaseModel):
    account_id: int
    marketplace: str
    consent_url: str
    expires_at: datetime


def account_out(row: MarketplaceAccount) -> AccountOut:
    base = f"{BASE}/{row.id}"
    return AccountOut(
        id=row.id or 0,
        marketplace=row.marketplace,
        name=row.name,
        status=shown_status(enabled=row.enabled, status=row.status),
        status_reason=row.status_reason,
        enabled=row.enabled,
        base_url=row.base_url,
        region=row.region,
        marketplace_ids=list(row.marketplace_ids or []),
        options=dict(row.config or {}),
        credentials_ref=row.credentials_ref,
        credentials=dict(row.credentials_hint or {}),
        safety_buffer=row.safety_buffer,
        last_success_at=row.last_success_at,
        last_error_at=row.last_error_at,
        last_error=row.last_error,
        listing_sync=dict(row.listing_sync or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        links=AccountLinks(
            self=base, test=f"{base}/test", connect=f"{base}/connect", listing_sync=f"{base}/listing-sync"
        ),
    )
