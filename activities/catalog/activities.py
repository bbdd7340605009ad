"""Catalog-import activities: scan the uploaded file, import one batch, record the outcome.

Sync `def` activities: parsing and the database are blocking and CPU-bound, so they run on the worker's thread
pool. Each one is idempotent: a batch commits its upserts, its issues and its batch record in one transaction,
and a retry of a committed batch returns the stored counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from temporalio import activity

from activities.catalog import repository as repo
from activities.catalog.files import read_batch, scan_file
from activities.catalog.stock import apply_stock
from connectors.blobs.port import BlobNotFound
from domain.catalog.records import changed_products, validate_batch
from domain.catalog.rows import IssueCode, RowIssue
from merchflow.db.identifiers import identifiers_of, replace_identifiers
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.telemetry.metrics import IMPORT_ROWS
from workers.deps import Deps
from workflows.catalog.contract import (
    BatchInput,
    BatchResult,
    FinishInput,
    FinishResult,
    ImportCounts,
    PrepareInput,
    PrepareResult,
)

log = get_logger(__name__)


class CatalogActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        # reads that must not take SQLite's writer lock (writers start with BEGIN IMMEDIATE)
        self.reader = deps.engine.execution_options(readonly=True)
        self.blobs = deps.blobs

    @activity.defn(name="catalog-import-prepare")
    def prepare(self, inp: PrepareInput) -> PrepareResult:
        now = utcnow()
        with self.engine.begin() as conn:
            repo.ensure_import(
                conn,
                values={
                    "id": inp.import_id,
                    "filename": inp.filename[:300],
                    "file_format": inp.file_format,
                    "size_bytes": inp.size_bytes,
                    "status": "pending",
                    "created_by": inp.created_by,
                    "workflow_id": inp.workflow_id,
                    "created_at": now,
                },
            )
        try:
            with self.blobs.local_copy(inp.blob_key) as path:
                scan = scan_file(
                    path,
                    inp.file_format,
                    heartbeat=lambda rows: activity.heartbeat(rows),
                    options=inp.options,
                )
        except BlobNotFound:
            error = f"the uploaded file {inp.blob_key} is missing from the blob store"
            with self.engine.begin() as conn:
                repo.insert_issues(
                    conn, import_id=inp.import_id, issues=[RowIssue(0, "file", IssueCode.EMPTY_FILE, error)]
                )
            return PrepareResult(fatal_error=error)
        with self.engine.begin() as conn:
            repo.insert_issues(conn, import_id=inp.import_id, issues=scan.issues)
            repo.set_total_rows(conn, import_id=inp.import_id, total_rows=scan.total_rows)
        log.info(
            "catalog file scanned",
            import_id=inp.import_id,
            rows=scan.total_rows,
            duplicates=scan.duplicate_rows,
            fatal=scan.fatal_error,
        )
        return PrepareResult(
            total_rows=scan.total_rows,
            data_offset=scan.data_offset,
            duplicate_rows=scan.duplicate_rows,
            fatal_error=scan.fatal_error,
        )

    @activity.defn(name="catalog-import-batch")
    def import_batch(self, inp: BatchInput) -> BatchResult:
        with self.reader.connect() as conn:
            stored = repo.stored_batch(conn, import_id=inp.import_id, first_row=inp.first_row)
        if stored is not None:
            log.info("batch already committed by an earlier attempt", first_row=inp.first_row)
            return stored
        # a local file to seek in: the store's own path (local) or a cached download (S3, fetched once per worker)
        with self.blobs.local_copy(inp.blob_key) as path:
            records = read_batch(
                path,
                inp.file_format,
                start_offset=inp.start_offset,
                first_row=inp.first_row,
                size=inp.batch_size,
                options=inp.options,
            )
            file_size = path.stat().st_size
        activity.heartbeat(inp.first_row)
        if records:
            next_offset, next_row = records[-1].end_offset, records[-1].row_number + 1
            with self.reader.connect() as conn:
                dup_rows = repo.duplicate_rows(
                    conn, import_id=inp.import_id, first=records[0].row_number, last=records[-1].row_number
                )
        else:
            next_offset, next_row, dup_rows = inp.start_offset, inp.first_row, set()
        done = len(records) < inp.batch_size or next_offset >= file_size
        stock_mode = inp.options.stock if inp.options is not None else "ignore"

        batch = validate_batch(records, dup_rows, inp.options)
        activity.heartbeat(inp.first_row)

        now = utcnow()
        try:
            with self.engine.begin() as conn:
                stored_hashes = repo.existing_hashes(conn, [p.sku for p in batch.products])
                changed, inserted = changed_products(batch.products, stored_hashes)
                repo.upsert_products(conn, products=changed, now=now)
                # the identifier index follows the products; stock (even of unchanged products) through the ledger
                replace_identifiers(conn, {p.sku: identifiers_of(p.attributes) for p in changed})
                stock_set = apply_stock(conn, import_id=inp.import_id, products=batch.products, mode=stock_mode,
                                        actor=inp.created_by, now=now)  # fmt: skip
                counts = ImportCounts(
                    processed_rows=len(records),
                    valid_rows=len(batch.products),
                    invalid_rows=batch.invalid_rows,
                    inserted=inserted,
                    updated=len(changed) - inserted,
                    unchanged=len(batch.products) - len(changed),
                    warnings=batch.warnings,
                    stock_set=stock_set,
                )
                result = BatchResult(
                    first_row=inp.first_row,
                    next_row=next_row,
                    next_offset=next_offset,
                    done=done,
                    counts=counts,
                )
                repo.insert_issues(conn, import_id=inp.import_id, issues=batch.issues)
                repo.record_batch(conn, import_id=inp.import_id, result=result, now=now)
                repo.refresh_totals(conn, import_id=inp.import_id)
        except sa.exc.IntegrityError:
            # Another attempt of this very batch committed while we worked (a zombie after a heartbeat
            # timeout): its transaction won, ours rolled back entirely.
            with self.reader.connect() as conn:
                stored = repo.stored_batch(conn, import_id=inp.import_id, first_row=inp.first_row)
            if stored is None:
                raise
            return stored
        IMPORT_ROWS.labels("valid").inc(counts.valid_rows)  # (batches committed, not replays)
        IMPORT_ROWS.labels("invalid").inc(counts.invalid_rows)
        return result

    @activity.defn(name="catalog-import-finish")
    def finish(self, inp: FinishInput) -> FinishResult:
        with self.engine.begin() as conn:
            counts = repo.refresh_totals(conn, import_id=inp.import_id)
            status = repo.finish_import(
                conn, import_id=inp.import_id, status=inp.status, error=inp.error, now=utcnow()
            )
        log.info("catalog import finished", import_id=inp.import_id, status=status, **counts.model_dump())
        return FinishResult(status=status, counts=counts)  # type: ignore[arg-type]
