"""The shared tables: those several business processes read (products, marketplace accounts and listings, stock
levels, the audit log) and the platform's own (users, API tokens). A process's own tables live beside its
repository (`activities/<process>/tables.py`) and are listed in its `Feature.tables`.

Money columns are NUMERIC, timestamps timezone-aware (see types.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        sa.Index("ix_product_parent_sku", "parent_sku"),
        sa.Index("ix_product_category", "category"),
        sa.Index("ix_product_brand", "brand"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, sa_column_kwargs={"unique": True}, index=False, nullable=False)
    name: str = Field(max_length=500)
    brand: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    cost: Decimal = Field(sa_column=Money(nullable=False))
    price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    min_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    max_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    currency: str = Field(default="USD", max_length=3)
    # Identifiers (UPC / EAN / ISBN / ASIN / MPN) live in attributes under "identifiers".
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    image_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    added_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    # sha256 of the normalised row: re-importing an unchanged row is a no-op
    content_hash: str | None = Field(default=None, max_length=64)
    # active | archived (DELETE archives: the row stays for orders, ledgers and history that name the SKU)
    status: str = Field(default="active", max_length=20)
    archived_at: datetime | None = optional_timestamp_field()
    # a variant names its parent product's SKU and its options ({"Size": "M", "Color": "Red"})
    parent_sku: str | None = Field(default=None, max_length=64)
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ProductIdentifier(SQLModel, table=True):
    """Each product's identifiers in matchable form (domain.identifiers.match_keys): GTINs as GTIN-14 (UPC, EAN and
    ISBN-13 of one product compare equal), ASIN, MPN. Kept in step with `product.attributes["identifiers"]` by every
    writer of products, so listing sync looks a listing's identifiers up by index instead of reading every product."""

    __tablename__ = "product_identifier"
    __table_args__ = (sa.Index("ix_product_identifier_value", "kind", "value"),)
    sku: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=10)  # gtin | asin | mpn
    value: str = Field(primary_key=True, max_length=120)


class MarketplaceAccount(SQLModel, table=True):
    __tablename__ = "marketplace_account"
    __table_args__ = (sa.UniqueConstraint("marketplace", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    marketplace: str = Field(max_length=32)  # amazon | ebay | shopify | woocommerce
    name: str = Field(max_length=100)
    base_url: str | None = Field(default=None, max_length=500)
    # Non-secret configuration (marketplace id, location id, region...). Credentials come from settings
    # by `credentials_ref`, so the database never holds a plaintext secret.
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credentials_ref: str | None = Field(default=None, max_length=100)
    safety_buffer: int = Field(default=0)
    enabled: bool = Field(default=True)
    created_at: datetime = timestamp_field()
    # --- issue 11: accounts managed at run time (migration 0008)
    region: str | None = Field(default=None, max_length=20)  # Amazon na / eu / fe; informative elsewhere
    marketplace_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # pending (created, never connected) | connected | needs_reauth (credentials refused: nothing calls it)
    status: str = Field(default="connected", max_length=20)
    status_reason: str | None = Field(default=None, max_length=1000)
    # secrets obtained at run time, AES-GCM sealed (merchflow.credentials); never in clear, never returned
    credentials_sealed: str | None = Field(default=None, sa_column=Column(sa.Text(), nullable=True))
    credentials_hint: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_success_at: datetime | None = optional_timestamp_field()  # last call the marketplace accepted
    last_error_at: datetime | None = optional_timestamp_field()
    last_error: str | None = Field(default=None, max_length=2000)
    # the latest listing sync: {"status", "run_id", "started_at", "finished_at", "report": {...}}
    listing_sync: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # bumped by every change of configuration, credentials or links: adapters are rebuilt when it moves
    revision: int = Field(default=0)
    updated_at: datetime = timestamp_field()


class MarketplaceListing(SQLModel, table=True):
    __tablename__ = "marketplace_listing"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "sku"),
        sa.Index("ix_listing_sku", "sku"),
        sa.Index("ix_listing_marketplace_sku", "account_id", "marketplace_sku", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="marketplace_account.id")
    sku: str = Field(max_length=64)
    external_id: str | None = Field(default=None, max_length=200)
    external_variant_id: str | None = Field(default=None, max_length=200)
    price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))  # as last published
    # approved by repricing and not yet confirmed live on the marketplace (migration 0005)
    target_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    quantity: int | None = None
    status: str = Field(default="draft", max_length=32)  # draft | active | ended | error
    # Monotonic per listing: a publish carrying an older version than the last applied one is dropped.
    published_version: int = Field(default=0)
    last_synced_at: datetime | None = optional_timestamp_field()
    sync_error: str | None = Field(default=None, max_length=2000)
    # --- issue 11 (migration 0008): `sku` is the master SKU; the marketplace may know the listing by another one
    # (linked by GTIN / ASIN / MPN). NULL: the same. The account's adapter translates at the port.
    marketplace_sku: str | None = Field(default=None, max_length=200)
    link_method: str | None = Field(default=None, max_length=20)  # sku | gtin | asin | mpn | manual | created
    linked_at: datetime | None = optional_timestamp_field()
    safety_buffer: int | None = None  # overrides the account's buffer for this listing
    stock_automation: bool = Field(default=True)  # false: stock pushes and reconciles leave it alone
    price_automation: bool = Field(default=True)  # false: repricing neither proposes nor publishes for it


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_level"
    sku: str = Field(primary_key=True, max_length=64)
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)
    # bumped on every change; publishes carry it so stale pushes can be recognised
    version: int = Field(default=0)
    updated_at: datetime = timestamp_field()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity_type", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp_field()
    actor: str = Field(max_length=100)  # user name, "system", or a workflow id
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=200)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    password_hash: str | None = Field(default=None, max_length=300)
    role: str = Field(max_length=20)  # admin | operator | approver | viewer
    email: str | None = Field(default=None, max_length=300)
    is_active: bool = True
    created_at: datetime = timestamp_field()


class ApiToken(SQLModel, table=True):
    """Bearer tokens are random (256 bits), so a SHA-256 digest is enough to store them safely."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=12)  # first characters, shown in listings to tell tokens apart
    created_at: datetime = timestamp_field()
    last_used_at: datetime | None = optional_timestamp_field()
    revoked_at: datetime | None = optional_timestamp_field()


class WebSession(SQLModel, table=True):
    """A logged-in web session, server side, so logging out, a password change or a deactivation ends it at once
    (a copied cookie stops working). The cookie carries a random secret; only its SHA-256 digest is stored."""

    __tablename__ = "web_session"
    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie's secret
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field(index=True)


class NotificationOutbox(SQLModel, table=True):
    """Notices for people (decisions waiting, accounts needing re-auth), delivered by merchflow.notify."""

    __tablename__ = "notification_outbox"
    __table_args__ = (sa.Index("ix_outbox_status", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    # e.g. decision id + event + version (+ level): the same notice is queued once however often it is asked for
    dedupe_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    decision_id: str | None = Field(default=None, max_length=64)
    # needs_approval | escalated | premise_changed | batch_pending | account_needs_reauth
    event: str = Field(max_length=40)
    audience: str = Field(default="approver", max_length=40)  # an approver group, or "operator"
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(sa.Text(), nullable=False))
    link: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="pending", max_length=12)  # pending | sent | logged | failed
    # channels already delivered to, so a retry after a partial failure does not mail twice
    delivered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = timestamp_field()
    sent_at: datetime | None = optional_timestamp_field()
