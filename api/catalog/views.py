"""Response shapes of the catalog-import API, built from the repository's rows and the workflow's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel

from activities.catalog import repository
from workflows.catalog.contract import CatalogImportProgress

BASE = "/api/v1/catalog/imports"


class ImportLinks(BaseModel):
    self: str
    report: str


class ImportCountsOut(BaseModel):
    processed_rows: int
    valid_rows: int
    invalid_rows: int
    inserted: int
    updated: int
    unchanged: int
    stock_set: int = 0  # SKUs whose on-hand the file set (opening stock, or ?stock=set)


class ProgressOut(BaseModel):
    phase: str
    total_rows: int | None
    processed_rows: int
    percent: float | None
    batches_done: int | None = None
    source: Literal["workflow", "database"]


class ImportSummary(BaseModel):
    id: str
    status: str
    filename: str
    file_format: str
    size_bytes: int
    total_rows: int
    counts: ImportCountsOut
    error: str | None
    workflow_id: str | None
    created_by: str | None
    created_at: datetime
    finished_at: datetime | None
    links: ImportLinks


class IssueOut(BaseModel):
    row: int
    field: str | None
    code: str
    severity: str
    message: str


class IssuePage(BaseModel):
    total: int
    errors: int
    warnings: int
    offset: int
    limit: int
    items: list[IssueOut]


class ImportDetail(ImportSummary):
    progress: ProgressOut
    report: IssuePage


class ImportList(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ImportSummary]


class CreatedImport(ImportSummary):
    existing: bool  # true when this file had been uploaded before: nothing new was started


def summary(row: sa.RowMapping) -> ImportSummary:
    return ImportSummary(
        id=row["id"],
        status=row["status"],
        filename=row["filename"],
        file_format=row["file_format"],
        size_bytes=row["size_bytes"],
        total_rows=row["total_rows"],
        counts=ImportCountsOut(**{k: row[k] for k in ImportCountsOut.model_fields}),
        error=row["error"],
        workflow_id=row["workflow_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        links=ImportLinks(self=f"{BASE}/{row['id']}", report=f"{BASE}/{row['id']}?offset=0&limit=100"),
    )


def progress_from_db(row: sa.RowMapping) -> ProgressOut:
    phase = {"pending": "queued", "running": "importing"}.get(row["status"], row["status"])
    return _progress(phase, row["total_rows"] or None, row["processed_rows"], None, "database")


def progress_from_workflow(p: CatalogImportProgress) -> ProgressOut:
    return _progress(p.phase, p.total_rows, p.counts.processed_rows, p.batches_done, "workflow")


def _progress(phase: str, total: int | None, done: int, batches: int | None, source: str) -> ProgressOut:
    percent = round(100.0 * done / total, 1) if total else None
    return ProgressOut(
        phase=phase,
        total_rows=total,
        processed_rows=done,
        percent=percent,
        batches_done=batches,
        source=source,
    )  # type: ignore[arg-type]


def issue_page(
    engine: sa.Engine, import_id: str, *, offset: int, limit: int, severity: str | None
) -> IssuePage:
    by_severity, rows = repository.issue_rows(
        engine, import_id, offset=offset, limit=limit, severity=severity
    )
    errors, warnings = by_severity.get("error", 0), by_severity.get("warning", 0)
    items = [
        IssueOut(
            row=r["row_number"],
            field=r["field"],
            code=r["code"],
            severity=r["severity"],
            message=r["message"],
        )
        for r in rows
    ]
    total = (errors if severity == "error" else warnings) if severity else errors + warnings
    return IssuePage(total=total, errors=errors, warnings=warnings, offset=offset, limit=limit, items=items)
