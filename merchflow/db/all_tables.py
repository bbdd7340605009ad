"""Imports every table module so SQLModel.metadata is complete (Alembic env and test fixtures use it)."""

from sqlmodel import SQLModel

from merchflow.db import models  # noqa: F401

metadata = SQLModel.metadata
