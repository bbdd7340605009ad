"""Sales-import activities: scan the uploaded file, import one batch, record the outcome; and the copy of the
engine's own orders. Sync activities (parsing and the database block) on the worker's thread pool; a batch's
lines, issues and batch record commit together, and a retried batch returns the stored counts."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from temporalio import activity

from activities.forecasting import sales_repository as repo
from activities.forecasting.orders import sync_orders
from activities.forecasting.sales_files import read_sales_batch, scan_sales
from connectors.blobs.port import BlobNotFound
from domain.catalog.issues import RowIssue
from domain.forecasting.sales import buyer_token, normalise_sale
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.settings import Settings
from workers.deps import Deps
from workflows.forecasting.contract import (
    SalesBatchInput,
    SalesBatchResult,
    SalesFinishInput,
    SalesImportCounts,
    SalesImportResult,
    SalesPrepareInput,
    SalesPrepareResult,
    SyncOrdersInput,
    SyncOrdersResult,
)

log = get_logger(__name__)


def buyer_key(settings: Settings) -> bytes:
    """The pseudonymisation key: its own setting, or one derived from the application secret."""
    own = settings.forecasting.buyer_key
    if own is not None:
        return own.get_secret_value().encode()
    secret = settings.secret_key.get_secret_value().encode()
    return hashlib.sha256(b"merchflow-buyer-pseudonym\x00" + secret).digest()


class SalesActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.reader = deps.engine.execution_options(readonly=True)
        self.blobs = deps.blobs
        self.key = buyer_key(deps.settings)

    @activity.defn(name="sales-import-prepare")
    def prepare(self, inp: SalesPrepareInput) -> SalesPrepareResult:
        with self.engine.begin() as conn:
            repo.ensure_import(conn, values={
                "id": inp.import_id, "filename": inp.filename[:300], "file_format": inp.file_format,
                "size_bytes": inp.size_bytes, "status": "pending", "created_by": inp.created_by,
                "workflow_id": inp.workflow_id, "created_at": utcnow(),
            })  # fmt: skip
        try:
            with self.blobs.local_copy(inp.blob_key) as path:
                scan = scan_sales(path, inp.file_format, heartbeat=lambda rows: activity.heartbeat(rows))
        except BlobNotFound:
            error = f"the uploaded file {inp.blob_key} is missing from the blob store"
            with self.engine.begin() as conn:
                repo.insert_issues(
                    conn, import_id=inp.import_id, issues=[RowIssue(0, "file", "empty_file", error)]
                )
            return SalesPrepareResult(fatal_error=error)
        with self.engine.begin() as conn:
            repo.insert_issues(conn, import_id=inp.import_id, issues=scan.issues)
            repo.set_total_rows(conn, import_id=inp.import_id, total_rows=scan.total_rows)
        return SalesPrepareResult(
            total_rows=scan.total_rows, data_offset=scan.data_offset, fatal_error=scan.fatal_error
        )

    @activity.defn(name="sales-import-batch")
    def import_batch(self, inp: SalesBatchInput) -> SalesBatchResult:
        with self.reader.connect() as conn:
            stored = repo.stored_batch(conn, import_id=inp.import_id, first_row=inp.first_row)
        if stored is not None:
            return stored
        # a local file to seek in: the store's own path (local) or a cached download (S3, fetched once per worker)
        with self.blobs.local_copy(inp.blob_key) as path:
            records = read_sales_batch(
                path,
                inp.file_format,
                start_offset=inp.start_offset,
                first_row=inp.first_row,
                size=inp.batch_size,
            )
            file_size = path.stat().st_size
        activity.heartbeat(inp.first_row)
        next_offset = records[-1].end_offset if records else inp.start_offset
        next_row = records[-1].row_number + 1 if records else inp.first_row
        done = len(records) < inp.batch_size or next_offset >= file_size
        issues: list[RowIssue] = []
        rows, contents = [], []
        now = utcnow()
        for record in records:
            if record.values is None:
                if record.issue is not None:
                    issues.append(record.issue)
                continue
            sale, row_issues = normalise_sale(record.values, record.row_number)
            issues.extend(row_issues)
            if sale is None:
                continue
            token = buyer_token(self.key, sale.buyer_id) if sale.buyer_id else None
            contents.append(sale.content_key(token))
            rows.append({"source": "import", "import_id": inp.import_id, "sold_on": sale.sold_on, "sku": sale.sku,
                         "quantity": sale.quantity, "unit_price": sale.unit_price, "channel": sale.channel,
                         "store": sale.store, "buyer": token, "order_ref": sale.order_id, "created_at": now})  # fmt: skip
        invalid = len(records) - len(rows)
        try:
            with self.engine.begin() as conn:
                for row, key in zip(rows, repo.assign_line_keys(conn, import_id=inp.import_id, content_keys=contents),
                                    strict=True):  # fmt: skip
                    row["line_key"] = key
                inserted = repo.insert_lines(conn, rows)
                counts = SalesImportCounts(
                    processed_rows=len(records), valid_rows=len(rows), invalid_rows=invalid, inserted=inserted,
                    duplicates=len(rows) - inserted,
                )  # fmt: skip
                result = SalesBatchResult(
                    first_row=inp.first_row,
                    next_row=next_row,
                    next_offset=next_offset,
                    done=done,
                    counts=counts,
                )
                repo.insert_issues(conn, import_id=inp.import_id, issues=issues)
                repo.record_batch(conn, import_id=inp.import_id, result=result)
                repo.refresh_totals(conn, import_id=inp.import_id)
        except sa.exc.IntegrityError:
            # a concurrent attempt of this batch committed first: ours rolled back whole
            with self.reader.connect() as conn:
                stored = repo.stored_batch(conn, import_id=inp.import_id, first_row=inp.first_row)
            if stored is None:
                raise
            return stored
        return result

    @activity.defn(name="sales-import-finish")
    def finish(self, inp: SalesFinishInput) -> SalesImportResult:
        with self.engine.begin() as conn:
            counts = repo.refresh_totals(conn, import_id=inp.import_id)
            status = repo.finish_import(
                conn, import_id=inp.import_id, status=inp.status, error=inp.error, now=utcnow()
            )
        log.info("sales import finished", import_id=inp.import_id, status=status, **counts.model_dump())
        return SalesImportResult(import_id=inp.import_id, status=status, error=inp.error, counts=counts)

    @activity.defn(name="sales-sync-orders")
    def sync_orders(self, inp: SyncOrdersInput) -> SyncOrdersResult:
        copied, last = 0, 0
        while True:
            with self.engine.begin() as conn:
                n, last, more = sync_orders(conn, limit=inp.page_size)
            copied += n
            activity.heartbeat(last)
            if not more:
                return SyncOrdersResult(copied=copied, last_id=last)
