"""The arbitrage loop: saved searches, scan runs, offers seen (dedupe memory), deals, spend reservations and the budget
lock, negotiation messages, webhook receipts, cached market quotes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "arb_budget_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "arb_deal",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("offer_key", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=True),
        sa.Column("scan_id", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("product_key", sa.String(length=40), nullable=True),
        sa.Column("asin", sa.String(length=10), nullable=True),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("asking_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("shipping", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("max_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("target_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("agreed_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("purchase_amount", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("landed_cost", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("predicted_sale_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("predicted_fees", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("predicted_profit", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("predicted_roi", sa.Float(), nullable=True),
        sa.Column("days_to_sell", sa.Integer(), nullable=True),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fee_version", sa.String(length=60), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("payment_id", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("received_condition", sa.String(length=20), nullable=True),
        sa.Column("list_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("sold_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("sold_fees", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("realised_profit", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_key"),
    )
    op.create_index("ix_arb_deal_state", "arb_deal", ["state", "created_at"], unique=False)
    op.create_table(
        "arb_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_key", sa.String(length=300), nullable=False),
        sa.Column("scan_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_key", sa.String(length=500), nullable=False),
        sa.Column("seller", sa.String(length=200), nullable=True),
        sa.Column("price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=True),
        sa.Column("phash_b0", sa.String(length=4), nullable=True),
        sa.Column("phash_b1", sa.String(length=4), nullable=True),
        sa.Column("phash_b2", sa.String(length=4), nullable=True),
        sa.Column("phash_b3", sa.String(length=4), nullable=True),
        sa.Column("product_key", sa.String(length=40), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_key"),
    )
    op.create_index("ix_arb_offer_p0", "arb_offer", ["phash_b0"], unique=False)
    op.create_index("ix_arb_offer_p1", "arb_offer", ["phash_b1"], unique=False)
    op.create_index("ix_arb_offer_p2", "arb_offer", ["phash_b2"], unique=False)
    op.create_index("ix_arb_offer_p3", "arb_offer", ["phash_b3"], unique=False)
    op.create_index("ix_arb_offer_scan", "arb_offer", ["scan_id", "id"], unique=False)
    op.create_index("ix_arb_offer_seller", "arb_offer", ["seller"], unique=False)
    op.create_index("ix_arb_offer_title", "arb_offer", ["title_key"], unique=False)
    op.create_table(
        "arb_quote",
        sa.Column("product_key", sa.String(length=40), nullable=False),
        sa.Column("depth", sa.String(length=10), nullable=False),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("product_key"),
    )
    op.create_table(
        "arb_saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("max_offers", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "arb_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "event_id"),
    )
    op.create_table(
        "arb_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("intent", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["arb_deal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deal_id", "direction", "external_id"),
    )
    op.create_index("ix_arb_msg_deal", "arb_message", ["deal_id", "id"], unique=False)
    op.create_table(
        "arb_scan_run",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["arb_saved_search.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "arb_spend",
        sa.Column("deal_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("product_key", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["arb_deal.id"],
        ),
        sa.PrimaryKeyConstraint("deal_id"),
    )
    op.create_index("ix_arb_spend_day", "arb_spend", ["status", "day"], unique=False)
    op.create_index("ix_arb_spend_product", "arb_spend", ["product_key"], unique=False)


def downgrade() -> None:
    op.drop_table("arb_spend")
    op.drop_table("arb_scan_run")
    op.drop_table("arb_message")
    op.drop_table("arb_webhook")
    op.drop_table("arb_saved_search")
    op.drop_table("arb_quote")
    op.drop_table("arb_offer")
    op.drop_table("arb_deal")
    op.drop_table("arb_budget_lock")
