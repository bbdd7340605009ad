"""Repricing: runs, proposals (dry runs and decisions), trained demand models, listing target prices.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 4)


def upgrade() -> None:
    with op.batch_alter_table("marketplace_listing") as batch:
        batch.add_column(sa.Column("target_price", _MONEY, nullable=True))
    op.create_table(
        "reprice_run",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("auto_approved", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("expected_margin_delta", _MONEY, nullable=True),
        sa.Column("expected_revenue_delta", _MONEY, nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reprice_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(200), sa.ForeignKey("reprice_run.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("current_price", _MONEY, nullable=False),
        sa.Column("suggested_price", _MONEY, nullable=False),
        sa.Column("floor_price", _MONEY, nullable=True),
        sa.Column("ceiling_price", _MONEY, nullable=True),
        sa.Column("change_pct", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("unit_margin_now", _MONEY, nullable=True),
        sa.Column("unit_margin_new", _MONEY, nullable=True),
        sa.Column("expected_units_factor", sa.Float(), nullable=False),
        sa.Column("expected_revenue_factor", sa.Float(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "account_id", "sku"),
    )
    op.create_index("ix_reprice_prop_run", "reprice_proposal", ["run_id", "id"])
    op.create_index("ix_reprice_prop_listing", "reprice_proposal", ["account_id", "sku", "status"])
    op.create_index("ix_reprice_prop_decision", "reprice_proposal", ["decision_id"])
    op.create_table(
        "demand_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", _TS, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("validation_mae_log", sa.Float(), nullable=True),
        sa.Column("validation_mape", sa.Float(), nullable=True),
        sa.Column("elasticity", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("demand_model")
    op.drop_index("ix_reprice_prop_decision", table_name="reprice_proposal")
    op.drop_index("ix_reprice_prop_listing", table_name="reprice_proposal")
    op.drop_index("ix_reprice_prop_run", table_name="reprice_proposal")
    op.drop_table("reprice_proposal")
    op.drop_table("reprice_run")
    with op.batch_alter_table("marketplace_listing") as batch:
        batch.drop_column("target_price")
