"""The catalog process's contract: workflow name and id, task queue, progress query, and every payload.

A leaf: pydantic only. Only ids, offsets and counters travel through Temporal: the file stays in the blob store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.catalog.presets import ImportOptions

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)
IMPORT_WORKFLOW = "catalog-import"
PROGRESS_QUERY = "progress"


def import_workflow_id(import_id: str) -> str:
    """An import is the uploaded bytes' digest: the same file uploaded twice is one import, one workflow."""
    return f"catalog-import-{import_id}"


FileFormat = Literal["csv", "jsonl"]
ImportStatus = Literal["pending", "running", "completed", "failed"]
Phase = Literal["preparing", "importing", "finishing", "completed", "failed"]


class ImportCounts(BaseModel):
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: int = 0
    stock_set: int = 0  # SKUs whose on-hand the file's quantity set (opening stock, or stock=set)

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(**{k: getattr(self, k) + getattr(other, k) for k in ImportCounts.model_fields})


class ImportCursor(BaseModel):
    """Where the import stands; carried across continue-as-new."""

    total_rows: int
    data_offset: int
    next_offset: int
    next_row: int
    batches_done: int = 0
    counts: ImportCounts = Field(default_factory=ImportCounts)


class CatalogImportInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    filename: str
    size_bytes: int
    created_by: str | None = None
    # Fixed when the import starts, so a retried batch always covers the same rows whatever the worker's settings.
    batch_size: int = Field(default=5000, ge=1)
    heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    # None: continue-as-new only when Temporal suggests it (history size); tests set a small number.
    max_batches_per_run: int | None = Field(default=None, ge=1)
    cursor: ImportCursor | None = None
    # preset / column mapping / stock mode (None: our own columns, stock for new SKUs only)
    options: ImportOptions | None = None


class CatalogImportResult(BaseModel):
    import_id: str
    status: ImportStatus
    error: str | None = None
    total_rows: int = 0
    counts: ImportCounts = Field(default_factory=ImportCounts)


class CatalogImportProgress(BaseModel):
    import_id: str
    phase: Phase
    total_rows: int | None = None
    batches_done: int = 0
    counts: ImportCounts = Field(default_factory=ImportCounts)
    error: str | None = None


class PrepareInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    filename: str
    size_bytes: int
    created_by: str | None = None
    workflow_id: str
    options: ImportOptions | None = None


class PrepareResult(BaseModel):
    total_rows: int = 0
    data_offset: int = 0
    duplicate_rows: int = 0
    fatal_error: str | None = None  # the file cannot be imported at all (encoding, header)


class BatchInput(BaseModel):
    import_id: str
    blob_key: str
    file_format: FileFormat
    start_offset: int
    first_row: int
    batch_size: int
    options: ImportOptions | None = None
    created_by: str | None = None


class BatchResult(BaseModel):
    first_row: int
    next_row: int
    next_offset: int
    done: bool
    counts: ImportCounts
    replayed: bool = False  # True when an earlier attempt had already committed this batch


class FinishInput(BaseModel):
    import_id: str
    status: Literal["completed", "failed"]
    error: str | None = None


class FinishResult(BaseModel):
    status: ImportStatus
    counts: ImportCounts
