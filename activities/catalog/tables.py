"""Tables of catalog imports: the import, its per-row issues and its committed batches."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from merchflow.db.types import optional_timestamp_field, timestamp_field


class CatalogImport(SQLModel, table=True):
    __tablename__ = "catalog_import"
    id: str = Field(primary_key=True, max_length=64)  # sha256 of the uploaded bytes + format
    filename: str = Field(max_length=300)
    file_format: str = Field(max_length=10)  # csv | jsonl
    size_bytes: int
    status: str = Field(default="pending", max_length=20)  # pending | running | completed | failed
    total_rows: int = 0
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_set: int = 0
    error: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


class CatalogImportIssue(SQLModel, table=True):
    __tablename__ = "catalog_import_issue"
    __table_args__ = (sa.UniqueConstraint("import_id", "row_number", "field", "message"),)
    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="catalog_import.id", max_length=64)
    row_number: int  # 1 = first data row after the header; 0 = the file as a whole
    field: str | None = Field(default=None, max_length=100)
    message: str = Field(max_length=500)
    severity: str = Field(default="error", max_length=10)
    # machine-readable kind (duplicate_sku, invalid_value, ...); batches look duplicates up by it
    code: str = Field(default="invalid_value", max_length=40)


class CatalogImportBatch(SQLModel, table=True):
    """One committed batch of an import, written in the same transaction as its product upserts.

    A retried batch (worker killed after the commit, before Temporal heard back) finds its row and returns
    the stored counts instead of recounting every product as "unchanged".
    """

    __tablename__ = "catalog_import_batch"
    import_id: str = Field(foreign_key="catalog_import.id", max_length=64, primary_key=True)
    first_row: int = Field(primary_key=True)
    next_row: int
    next_offset: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))  # files may pass 2 GiB
    done: bool = False
    rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: int = 0
    stock_set: int = 0
    created_at: datetime = timestamp_field()
