"""Tables of listing sync: every listing each account's marketplace has (as last read) with its match to the master
catalog, and the sync runs. The links the engine publishes to are the shared `marketplace_listing` rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class ChannelListing(SQLModel, table=True):
    __tablename__ = "channel_listing"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "marketplace_sku"),
        sa.Index("ix_channel_listing_state", "account_id", "match_state", "id"),
        sa.Index("ix_channel_listing_product", "product_sku"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace_sku: str = Field(max_length=200)
    external_id: str | None = Field(default=None, max_length=200)
    external_variant_id: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=500)
    brand: str | None = Field(default=None, max_length=200)
    identifiers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    quantity: int | None = None
    status: str | None = Field(default=None, max_length=32)
    parent_sku: str | None = Field(default=None, max_length=200)
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # linked | conflict | unmatched | ignored (an operator said: not ours to link)
    match_state: str = Field(default="unmatched", max_length=12)
    product_sku: str | None = Field(default=None, max_length=64)  # the master product, when linked
    match_method: str | None = Field(
        default=None, max_length=20
    )  # sku | gtin | asin | mpn | manual | created
    conflict: str | None = Field(default=None, max_length=500)  # why it could not be linked, for the operator
    candidate_sku: str | None = Field(default=None, max_length=64)  # the product a conflict is about
    last_run_id: str | None = Field(default=None, max_length=200)  # the sync run that last saw it
    gone: bool = Field(default=False)  # not seen by the latest complete sync: delisted on the marketplace
    updated_at: datetime = timestamp_field()


class ListingSyncRun(SQLModel, table=True):
    __tablename__ = "listing_sync_run"
    __table_args__ = (sa.Index("ix_listing_sync_account", "account_id", "started_at"),)
    id: str = Field(primary_key=True, max_length=200)  # workflow id + first run id
    account_id: int = Field(foreign_key="marketplace_account.id")
    trigger: str = Field(default="manual", max_length=20)  # connect | schedule | manual
    status: str = Field(default="running", max_length=20)  # running | completed | failed
    pages: int = 0
    listings: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()
