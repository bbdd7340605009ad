"""Cross-marketplace stock: orders, webhook dedupe, poll cursors, reconcile runs and drift reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "marketplace_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("marketplace", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("processed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "order_id"),
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("marketplace", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "event_id"),
    )
    op.create_table(
        "order_cursor",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("cursor", sa.String(500), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "reconcile_run",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(200), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("marketplace_account.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("drifted", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "drift_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(200), sa.ForeignKey("reconcile_run.id"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=True),
        sa.Column("found", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "sku"),
    )
    op.create_index("ix_drift_run", "drift_report", ["run_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_drift_run", table_name="drift_report")
    for table in ("drift_report", "reconcile_run", "order_cursor", "webhook_event", "marketplace_order"):
        op.drop_table(table)
