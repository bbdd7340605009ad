"""Tables of the arbitrage loop: saved searches, every offer looked at (the dedupe memory), deals, the spend
reservations the limits are enforced on, negotiation messages, webhook dedupe, cached market quotes, scan runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from merchflow.db.types import Money, optional_timestamp_field, timestamp_field


class SavedSearch(SQLModel, table=True):
    __tablename__ = "arb_saved_search"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    source: str = Field(max_length=100)  # classifieds | ebay | scraped:<domain>
    query: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    every_minutes: int = 60
    max_offers: int = 5000  # per run
    enabled: bool = True
    created_by: str = Field(max_length=100)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    last_run_at: datetime | None = optional_timestamp_field()


class ScanRun(SQLModel, table=True):
    __tablename__ = "arb_scan_run"
    id: str = Field(primary_key=True, max_length=200)  # the scan workflow's id
    search_id: int = Field(foreign_key="arb_saved_search.id")
    status: str = Field(default="running", max_length=20)  # running | completed | failed
    pages: int = 0
    offers: int = 0
    duplicates: int = 0
    skipped: int = 0
    opportunities: int = 0
    cursor: str | None = Field(default=None, max_length=500)
    started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class SeenOffer(SQLModel, table=True):
    """Every offer a scan looked at, with its verdict: the dedupe memory across scans and the hit-rate base."""

    __tablename__ = "arb_offer"
    __table_args__ = (
        sa.UniqueConstraint("offer_key"),
        sa.Index("ix_arb_offer_title", "title_key"),
        sa.Index("ix_arb_offer_seller", "seller"),
        sa.Index("ix_arb_offer_p0", "phash_b0"),
        sa.Index("ix_arb_offer_p1", "phash_b1"),
        sa.Index("ix_arb_offer_p2", "phash_b2"),
        sa.Index("ix_arb_offer_p3", "phash_b3"),
        sa.Index("ix_arb_offer_scan", "scan_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    offer_key: str = Field(max_length=300)  # "<source>:<source_id>"
    scan_id: str = Field(max_length=200)
    title: str = Field(max_length=500)
    title_key: str = Field(max_length=500)
    seller: str | None = Field(default=None, max_length=200)
    price: Decimal = Field(sa_column=Money(nullable=False))
    phash: str | None = Field(default=None, max_length=16)
    phash_b0: str | None = Field(default=None, max_length=4)
    phash_b1: str | None = Field(default=None, max_length=4)
    phash_b2: str | None = Field(default=None, max_length=4)
    phash_b3: str | None = Field(default=None, max_length=4)
    product_key: str | None = Field(default=None, max_length=40)
    verdict: str = Field(max_length=20)  # buy | negotiate | skip | duplicate
    reason: str = Field(default="", max_length=500)
    seen_at: datetime = timestamp_field()


class Deal(SQLModel, table=True):
    __tablename__ = "arb_deal"
    __table_args__ = (sa.Index("ix_arb_deal_state", "state", "created_at"), sa.UniqueConstraint("offer_key"))
    id: str = Field(primary_key=True, max_length=40)
    offer_key: str = Field(max_length=300)
    source: str = Field(max_length=100)
    source_id: str = Field(max_length=200)
    search_id: int | None = None
    scan_id: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=500)
    product_key: str | None = Field(default=None, max_length=40)
    asin: str | None = Field(default=None, max_length=10)
    brand: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    condition: str = Field(default="good", max_length=20)
    state: str = Field(max_length=30)
    action: str = Field(max_length=20)  # buy | negotiate (the scan's verdict)
    channel: str | None = Field(default=None, max_length=20)
    currency: str = Field(default="USD", max_length=3)
    asking_price: Decimal = Field(sa_column=Money(nullable=False))
    shipping: Decimal = Field(default=Decimal(0), sa_column=Money(nullable=False))
    max_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    target_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    agreed_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    purchase_amount: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    landed_cost: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    predicted_sale_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    predicted_fees: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    predicted_profit: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    predicted_roi: float | None = None
    days_to_sell: int | None = None
    risk: float | None = None
    confidence: float | None = None
    fee_version: str | None = Field(default=None, max_length=60)
    evaluation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decision_id: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=100)
    payment_id: str | None = Field(default=None, max_length=100)
    sku: str | None = Field(default=None, max_length=64)
    received_condition: str | None = Field(default=None, max_length=20)
    list_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    sold_price: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    sold_fees: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    realised_profit: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    reason: str | None = Field(default=None, max_length=1000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    closed_at: datetime | None = optional_timestamp_field()


class SpendReservation(SQLModel, table=True):
    """Money a deal may spend, held before any approval and turned into spend by the purchase. The caps are checked
    against held + spent rows under the budget lock, so concurrent deals cannot both pass on the same budget."""

    __tablename__ = "arb_spend"
    __table_args__ = (
        sa.Index("ix_arb_spend_day", "status", "day"),
        sa.Index("ix_arb_spend_product", "product_key"),
    )
    deal_id: str = Field(primary_key=True, max_length=40, foreign_key="arb_deal.id")
    amount: Decimal = Field(sa_column=Money(nullable=False))
    units: int = 1
    product_key: str | None = Field(default=None, max_length=40)
    status: str = Field(max_length=20)  # held | spent | released | refunded | sold
    day: date  # the local day it counts against (settings.time_zone)
    held_at: datetime = timestamp_field()
    spent_at: datetime | None = optional_timestamp_field()
    closed_at: datetime | None = optional_timestamp_field()


class BudgetLock(SQLModel, table=True):
    """One row, locked FOR UPDATE around every reservation (PostgreSQL); SQLite serialises writers at BEGIN."""

    __tablename__ = "arb_budget_lock"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class DealMessage(SQLModel, table=True):
    __tablename__ = "arb_message"
    __table_args__ = (
        sa.UniqueConstraint("deal_id", "direction", "external_id"),
        sa.Index("ix_arb_msg_deal", "deal_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    deal_id: str = Field(max_length=40, foreign_key="arb_deal.id")
    direction: str = Field(max_length=3)  # out | in
    external_id: str = Field(max_length=100)
    text: str = Field(sa_column=Column(sa.Text, nullable=False))  # a seller's: untrusted, shown escaped
    amount: Decimal | None = Field(default=None, sa_column=Money(nullable=True))
    intent: str | None = Field(default=None, max_length=20)
    created_at: datetime = timestamp_field()


class WebhookReceipt(SQLModel, table=True):
    __tablename__ = "arb_webhook"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=30)  # payments | classifieds
    event_id: str = Field(max_length=100)
    event_type: str = Field(max_length=60)
    received_at: datetime = timestamp_field()


class QuoteCache(SQLModel, table=True):
    __tablename__ = "arb_quote"
    product_key: str = Field(primary_key=True, max_length=40)
    depth: str = Field(default="screen", max_length=10)  # screen | deep
    quote: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fetched_at: datetime = timestamp_field()
