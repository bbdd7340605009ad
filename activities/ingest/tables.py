"""Tables of the ingest process: batches and their products, images (with the hashes duplicates are found by),
the per-marketplace publish outcomes, calibration labels from the approvers' edits, and the LLM layer's
SQL-backed pieces (every call with its tokens and cost, the spend counters the caps are enforced on across
workers, the draft cache)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class IngestBatch(SQLModel, table=True):
    __tablename__ = "ingest_batch"
    id: str = Field(primary_key=True, max_length=32)
    source: str = Field(max_length=20)  # upload | zip | folder
    status: str = Field(default="pending", max_length=20)  # pending | running | drafted
    products: int = 0
    created_by: str | None = Field(default=None, max_length=100)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()
    drafted_at: datetime | None = optional_timestamp_field()


class IngestProduct(SQLModel, table=True):
    __tablename__ = "ingest_product"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "position"),
        sa.Index("ix_ingest_product_status", "status"),
    )
    id: str = Field(primary_key=True, max_length=32)
    batch_id: str = Field(foreign_key="ingest_batch.id", max_length=32)
    position: int  # order within the batch (the manifest's row, the upload's order)
    sku: str = Field(max_length=64)
    cost: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    currency: str = Field(default="USD", max_length=3)
    quantity: int = 0
    hints: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    marketplaces: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # workflows.ingest.contract.ProductStatus
    reason: str | None = Field(default=None, max_length=2000)  # why refused / failed / rejected
    duplicate_of: str | None = Field(default=None, max_length=32)  # the product whose image this is
    # what was read and decided, step by step (each written once by its activity; JSON so the API shows it)
    extraction: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    catalog: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    listing: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: float | None = None
    decision_id: str | None = Field(default=None, max_length=64)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()
    started_at: datetime | None = optional_timestamp_field()  # its workflow picked it up
    drafted_at: datetime | None = optional_timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class IngestImage(SQLModel, table=True):
    __tablename__ = "ingest_image"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "position"),
        sa.Index("ix_ingest_image_sha", "sha256"),
    )
    id: str = Field(primary_key=True, max_length=40)  # <product id>-<position>
    product_id: str = Field(foreign_key="ingest_product.id", max_length=32)
    position: int
    upload_key: str = Field(max_length=512)  # the bytes as uploaded (never sent anywhere)
    filename: str | None = Field(default=None, max_length=300)
    status: str = Field(default="pending", max_length=20)  # pending | ok | duplicate | refused
    reason: str | None = Field(default=None, max_length=1000)
    kind: str | None = Field(default=None, max_length=10)  # jpeg | png | webp | heic
    width: int | None = None
    height: int | None = None
    stripped_key: str | None = Field(default=None, max_length=512)  # the metadata-free JPEG
    sha256: str | None = Field(default=None, max_length=64)
    phash: str | None = Field(default=None, max_length=16)
    colour_layout: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    duplicate_of: str | None = Field(default=None, max_length=40)  # an image id
    created_at: datetime = timestamp_field()


class IngestListing(SQLModel, table=True):
    """One marketplace account's outcome of publishing one product: the per-item result, kept across retries so
    an account already live is never published again by a retry of the others."""

    __tablename__ = "ingest_listing"
    __table_args__ = (sa.UniqueConstraint("product_id", "account_id"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: str = Field(foreign_key="ingest_product.id", max_length=32)
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace: str = Field(max_length=32)
    sku: str = Field(max_length=64)
    status: str = Field(max_length=20)  # live | failed | rejected
    external_id: str | None = Field(default=None, max_length=200)
    price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    quantity: int | None = None
    code: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    updated_at: datetime = timestamp_field()


class IngestLabel(SQLModel, table=True):
    """What the approver kept or corrected of each proposed value: the labels confidence is calibrated on
    (per source: how often an OCR / barcode / catalog / LLM value at a given confidence survives review)."""

    __tablename__ = "ingest_label"
    __table_args__ = (sa.UniqueConstraint("decision_id", "field"),)
    id: int | None = Field(default=None, primary_key=True)
    decision_id: str = Field(max_length=64)
    product_id: str = Field(max_length=32)
    field: str = Field(max_length=100)  # attr.brand, title, price.ebay, ...
    source: str | None = Field(default=None, max_length=20)
    confidence: float | None = None
    proposed: str | None = Field(default=None, max_length=2000)
    final: str | None = Field(default=None, max_length=2000)
    accepted: bool
    approver: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()


class LlmCallRow(SQLModel, table=True):
    __tablename__ = "llm_call"
    __table_args__ = (sa.Index("ix_llm_call_run", "run_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: str | None = Field(default=None, max_length=64)
    product_id: str | None = Field(default=None, max_length=64)
    provider: str = Field(max_length=20)
    model: str = Field(max_length=100)
    prompt_version: str = Field(max_length=60)
    purpose: str = Field(max_length=10)  # draft | repair
    outcome: str = Field(max_length=10)  # ok | malformed | error | cached
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Field(default=Decimal(0), sa_column=Money(nullable=False))
    latency_s: float = 0.0
    error: str | None = Field(default=None, max_length=1000)
    # the draft's cache key: a retried activity records its calls once
    cache_key: str | None = Field(default=None, max_length=64)
    at: datetime = timestamp_field()


class LlmSpend(SQLModel, table=True):
    """Money reserved and spent per cap scope ("run:<batch id>", "day:2026-12-03"), shared by every worker: a
    call reserves its worst case with one conditional UPDATE, so concurrent calls can never together pass a cap."""

    __tablename__ = "llm_spend"
    scope: str = Field(primary_key=True, max_length=80)
    spent: Decimal = Field(default=Decimal(0), sa_column=Money(nullable=False))
    extra: Decimal = Field(
        default=Decimal(0), sa_column=Money(nullable=False)
    )  # raised by llm_budget decisions
    updated_at: datetime = timestamp_field()


class LlmCacheRow(SQLModel, table=True):
    __tablename__ = "llm_draft_cache"
    key: str = Field(primary_key=True, max_length=64)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = timestamp_field()
