"""Core tables. One `table=True` class per table; API/payload models live beside the features that use them.

Money columns are NUMERIC, timestamps timezone-aware (see types.py). Tables of later features live in their
own modules under merchflow/db/ and are imported by `merchflow.db.all_tables`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, **kw))


def _ts_opt() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Product(SQLModel, table=True):
    __tablename__ = "product"
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
    added_at: datetime = _ts()
    updated_at: datetime = _ts()
    # sha256 of the normalised row: re-importing an unchanged row is a no-op
    content_hash: str | None = Field(default=None, max_length=64)


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
    created_at: datetime = _ts()


class MarketplaceListing(SQLModel, table=True):
    __tablename__ = "marketplace_listing"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "sku"),
        sa.Index("ix_listing_sku", "sku"),
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
    last_synced_at: datetime | None = _ts_opt()
    sync_error: str | None = Field(default=None, max_length=2000)


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_level"
    sku: str = Field(primary_key=True, max_length=64)
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)
    # bumped on every change; publishes carry it so stale pushes can be recognised
    version: int = Field(default=0)
    updated_at: datetime = _ts()


class StockLedgerEntry(SQLModel, table=True):
    """Append-only history of inventory transactions. Never updated, never deleted."""

    __tablename__ = "stock_ledger"
    __table_args__ = (sa.Index("ix_ledger_sku_id", "sku", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    kind: str = Field(max_length=20)  # receipt | sale | cancellation | return | adjustment | transfer
    quantity: int  # signed change of on_hand (or reserved, see `reserved_delta`)
    reserved_delta: int = Field(default=0)
    reason: str | None = Field(default=None, max_length=500)
    source_marketplace: str | None = Field(default=None, max_length=32)
    external_ref: str | None = Field(default=None, max_length=200)
    # business key: the same order / adjustment applied twice hits this constraint
    idempotency_key: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()


class PricingHistory(SQLModel, table=True):
    __tablename__ = "pricing_history"
    __table_args__ = (sa.Index("ix_pricing_sku_at", "sku", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    account_id: int | None = Field(default=None, foreign_key="marketplace_account.id")
    old_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    new_price: Decimal = Field(sa_column=Money(nullable=False))
    reason: str | None = Field(default=None, max_length=2000)
    confidence: float | None = None
    approved_by: str | None = Field(default=None, max_length=100)
    decision_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()


class CompetitorPrice(SQLModel, table=True):
    __tablename__ = "competitor_price"
    __table_args__ = (sa.Index("ix_competitor_sku_fetched", "sku", "fetched_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    source: str = Field(max_length=64)  # marketplace api name or scraped domain
    url: str | None = Field(default=None, max_length=2000)
    competitor: str | None = Field(default=None, max_length=200)
    price: Decimal = Field(sa_column=Money(nullable=False))
    shipping: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    currency: str = Field(default="USD", max_length=3)
    matched_by: str | None = Field(default=None, max_length=20)  # upc | ean | isbn | asin | mpn | title
    fetched_at: datetime = _ts()


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (sa.Index("ix_decision_status_type", "status", "decision_type"),)
    id: str = Field(primary_key=True, max_length=64)
    decision_type: str = Field(max_length=40)  # price_change | listing_publish | purchase | ...
    subject: str = Field(max_length=200)  # SKU or opportunity id
    marketplace: str | None = Field(default=None, max_length=32)
    proposal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    status: str = Field(default="pending", max_length=20)
    version: int = Field(default=1)
    approver: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    decided_at: datetime | None = _ts_opt()
    executed_at: datetime | None = _ts_opt()
    expires_at: datetime | None = _ts_opt()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity_type", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
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
    created_at: datetime = _ts()


class ApiToken(SQLModel, table=True):
    """Bearer tokens are random (256 bits), so a SHA-256 digest is enough to store them safely."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=12)  # first characters, shown in listings to tell tokens apart
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts_opt()
    revoked_at: datetime | None = _ts_opt()


class CatalogImport(SQLModel, table=True):
    __tablename__ = "catalog_import"
    id: str = Field(primary_key=True, max_length=64)  # sha256 of the uploaded bytes + format
    filename: str = Field(max_length=300)
    file_format: str = Field(max_length=10)  # csv | jsonl
    size_bytes: int
    status: str = Field(default="pending", max_length=20)  # pending | running | completed | failed
    total_rows: int = 0
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()
    finished_at: datetime | None = _ts_opt()


class CatalogImportIssue(SQLModel, table=True):
    __tablename__ = "catalog_import_issue"
    __table_args__ = (sa.UniqueConstraint("import_id", "row_number", "field", "message"),)
    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="catalog_import.id", max_length=64)
    row_number: int  # 1 = first data row after the header; 0 = the file as a whole
    field: str | None = Field(default=None, max_length=100)
    message: str = Field(max_length=500)
    severity: str = Field(default="error", max_length=10)
    # machine-readable kind (duplicate_sku, invalid_value, ...); batches look duplicates up by it
    code: str = Field(default="invalid_value", max_length=40)


class CatalogImportBatch(SQLModel, table=True):
    """One committed batch of an import, written in the same transaction as its product upserts.

    A retried batch (worker killed after the commit, before Temporal heard back) finds its row and returns
    the stored counts instead of recounting every product as "unchanged".
    """

    __tablename__ = "catalog_import_batch"
    import_id: str = Field(foreign_key="catalog_import.id", max_length=64, primary_key=True)
    first_row: int = Field(primary_key=True)
    next_row: int
    next_offset: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))  # files may pass 2 GiB
    done: bool = False
    rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: int = 0
    created_at: datetime = _ts()
