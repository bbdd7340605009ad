"""Imports every table module so SQLModel.metadata is complete (Alembic env and test fixtures use it)."""

from sqlmodel import SQLModel

from merchflow.db import (
    decisions,  # noqa: F401  (issue 5)
    models,  # noqa: F401
    pricing,  # noqa: F401  (issue 6)
    stock,  # noqa: F401  (issue 4)
)

metadata = SQLModel.metadata
