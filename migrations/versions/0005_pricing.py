"""Repricing (issue 6): tables and columns added by this feature.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reserved in the chain so features can land in any order; filled in by the feature's own change.
    pass


def downgrade() -> None:
    pass
