"""Results of bulk approvals, so their page is reached by a redirect after the POST.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision_bulk_result",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision_bulk_result", schema=None) as batch_op:
        batch_op.create_index("ix_decision_bulk_result_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decision_bulk_result", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_bulk_result_created_at")
    op.drop_table("decision_bulk_result")
