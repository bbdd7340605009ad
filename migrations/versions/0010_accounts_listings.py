"""Issue 11: marketplace accounts managed at run time (status, sealed credentials, connect attempts), listing sync
and links (channel listings, sync runs, per-listing buffers and automation switches), products' archive state,
variants and matchable identifiers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_NOW = sa.text("CURRENT_TIMESTAMP")


def _json_default(text: str) -> Any:
    return sa.text(f"'{text}'")


def upgrade() -> None:
    with op.batch_alter_table("marketplace_account") as b:
        b.add_column(sa.Column("region", sa.String(20), nullable=True))
        b.add_column(
            sa.Column("marketplace_ids", sa.JSON(), nullable=False, server_default=_json_default("[]"))
        )
        b.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="connected"))
        b.add_column(sa.Column("status_reason", sa.String(1000), nullable=True))
        b.add_column(sa.Column("credentials_sealed", sa.Text(), nullable=True))
        b.add_column(
            sa.Column("credentials_hint", sa.JSON(), nullable=False, server_default=_json_default("{}"))
        )
        b.add_column(sa.Column("last_success_at", _TS, nullable=True))
        b.add_column(sa.Column("last_error_at", _TS, nullable=True))
        b.add_column(sa.Column("last_error", sa.String(2000), nullable=True))
        b.add_column(sa.Column("listing_sync", sa.JSON(), nullable=False, server_default=_json_default("{}")))
        b.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("updated_at", _TS, nullable=False, server_default=_NOW))

    with op.batch_alter_table("marketplace_listing") as b:
        b.add_column(sa.Column("marketplace_sku", sa.String(200), nullable=True))
        b.add_column(sa.Column("link_method", sa.String(20), nullable=True))
        b.add_column(sa.Column("linked_at", _TS, nullable=True))
        b.add_column(sa.Column("safety_buffer", sa.Integer(), nullable=True))
        b.add_column(sa.Column("stock_automation", sa.Boolean(), nullable=False, server_default=sa.true()))
        b.add_column(sa.Column("price_automation", sa.Boolean(), nullable=False, server_default=sa.true()))
        b.create_index("ix_listing_marketplace_sku", ["account_id", "marketplace_sku"], unique=True)

    with op.batch_alter_table("product") as b:
        b.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="active"))
        b.add_column(sa.Column("archived_at", _TS, nullable=True))
        b.add_column(sa.Column("parent_sku", sa.String(64), nullable=True))
        b.add_column(sa.Column("options", sa.JSON(), nullable=True))
        b.create_index("ix_product_parent_sku", ["parent_sku"])
        b.create_index("ix_product_category", ["category"])
        b.create_index("ix_product_brand", ["brand"])

    for table in ("catalog_import", "catalog_import_batch"):
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("stock_set", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "product_identifier",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("sku", "kind", "value"),
    )
    op.create_index("ix_product_identifier_value", "product_identifier", ["kind", "value"])
    _backfill_identifiers()

    op.create_table(
        "connect_attempt",
        sa.Column("state_digest", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("marketplace", sa.String(32), nullable=False),
        sa.Column("shop", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("state_digest"),
    )
    op.create_table(
        "channel_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("marketplace_sku", sa.String(200), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("external_variant_id", sa.String(200), nullable=True),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("price", sa.Numeric(14, 4, asdecimal=True), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("parent_sku", sa.String(200), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("match_state", sa.String(12), nullable=False),
        sa.Column("product_sku", sa.String(64), nullable=True),
        sa.Column("match_method", sa.String(20), nullable=True),
        sa.Column("conflict", sa.String(500), nullable=True),
        sa.Column("candidate_sku", sa.String(64), nullable=True),
        sa.Column("last_run_id", sa.String(200), nullable=True),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "marketplace_sku"),
    )
    op.create_index("ix_channel_listing_state", "channel_listing", ["account_id", "match_state", "id"])
    op.create_index("ix_channel_listing_product", "channel_listing", ["product_sku"])
    op.create_table(
        "listing_sync_run",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_listing_sync_account", "listing_sync_run", ["account_id", "started_at"])


def _backfill_identifiers() -> None:
    """Identifiers imported before this revision live only in product.attributes: index them once."""
    import json

    from domain.identifiers import match_keys

    conn = op.get_bind()
    product = sa.table("product", sa.column("sku"), sa.column("attributes"))
    target = sa.table("product_identifier", sa.column("sku"), sa.column("kind"), sa.column("value"))
    rows: list[dict[str, str]] = []
    for sku, attributes in conn.execute(sa.select(product.c.sku, product.c.attributes)):
        attrs = json.loads(attributes) if isinstance(attributes, str) else (attributes or {})
        ids = attrs.get("identifiers") if isinstance(attrs, dict) else None
        if isinstance(ids, dict):
            rows += [{"sku": sku, "kind": k, "value": v} for k, v in sorted(match_keys(ids))]
        if len(rows) >= 5000:
            conn.execute(sa.insert(target), rows)
            rows = []
    if rows:
        conn.execute(sa.insert(target), rows)


def downgrade() -> None:
    op.drop_index("ix_listing_sync_account", table_name="listing_sync_run")
    op.drop_table("listing_sync_run")
    op.drop_index("ix_channel_listing_product", table_name="channel_listing")
    op.drop_index("ix_channel_listing_state", table_name="channel_listing")
    op.drop_table("channel_listing")
    op.drop_table("connect_attempt")
    op.drop_index("ix_product_identifier_value", table_name="product_identifier")
    op.drop_table("product_identifier")
    for table in ("catalog_import_batch", "catalog_import"):
        with op.batch_alter_table(table) as b:
            b.drop_column("stock_set")
    with op.batch_alter_table("product") as b:
        b.drop_index("ix_product_brand")
        b.drop_index("ix_product_category")
        b.drop_index("ix_product_parent_sku")
        for name in ("options", "parent_sku", "archived_at", "status"):
            b.drop_column(name)
    with op.batch_alter_table("marketplace_listing") as b:
        b.drop_index("ix_listing_marketplace_sku")
        for name in (
            "price_automation",
            "stock_automation",
            "safety_buffer",
            "linked_at",
            "link_method",
            "marketplace_sku",
        ):
            b.drop_column(name)
    with op.batch_alter_table("marketplace_account") as b:
        for name in (
            "updated_at",
            "revision",
            "listing_sync",
            "last_error",
            "last_error_at",
            "last_success_at",
            "credentials_hint",
            "credentials_sealed",
            "status_reason",
            "status",
            "marketplace_ids",
            "region",
        ):
            b.drop_column(name)
