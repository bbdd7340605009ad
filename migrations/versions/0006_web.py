"""Approver web pages (issue 5): tables and columns added by this feature.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reserved in the chain so features can land in any order; filled in by the feature's own change.
    pass


def downgrade() -> None:
    pass
