"""Marketplace connectors: tables and columns added by this feature.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reserved in the chain so features can land in any order; filled in by the feature's own change.
    pass


def downgrade() -> None:
    pass
