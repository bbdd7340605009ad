"""Reading an uploaded sales file from the blob store: the whole-file scan and one batch of records, with the
catalog's record readers (byte offsets between batches, CSV or JSON lines)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from domain.catalog.issues import IssueCode, RowIssue, Severity
from domain.catalog.records import CatalogFileError, Record, iter_records, read_csv_header
from domain.forecasting.sales import SalesHeader, check_sales_header, sales_column, unknown_sales_keys

_HEARTBEAT_EVERY = 50_000


@dataclass
class SalesScan:
    total_rows: int = 0
    data_offset: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    fatal_error: str | None = None


def _header(path: Path) -> tuple[SalesHeader, int]:
    with path.open("rb") as f:
        raw, data_offset = read_csv_header(f)
    return check_sales_header(raw), data_offset


def _records(path: Path, file_format: str, columns: tuple[str, ...], offset: int, first_row: int):  # type: ignore[no-untyped-def]
    f = path.open("rb")
    f.seek(offset)
    return f, iter_records(file_format, f, columns=columns, start_offset=offset, first_row=first_row)


def scan_sales(path: Path, file_format: str, heartbeat: Callable[[int], None]) -> SalesScan:
    scan = SalesScan()
    try:
        columns: tuple[str, ...] = ()
        if file_format == "csv":
            header, scan.data_offset = _header(path)
            scan.issues.extend(header.issues)
            if header.fatal:
                scan.fatal_error = "; ".join(i.message for i in header.issues if i.severity == Severity.ERROR)
                return scan
            columns = header.columns
        keys: set[str] = set()
        f, records = _records(path, file_format, columns, scan.data_offset, 1)
        with f:
            for record in records:
                scan.total_rows += 1
                if file_format == "jsonl" and record.values is not None and len(keys) < 1000:
                    keys.update(record.values)
                if scan.total_rows % _HEARTBEAT_EVERY == 0:
                    heartbeat(scan.total_rows)
    except CatalogFileError as exc:
        scan.issues.append(RowIssue(0, "file", IssueCode.ENCODING, str(exc)))
        scan.fatal_error = str(exc)
        return scan
    for key in unknown_sales_keys(keys)[:20]:
        message = f"unknown field '{key[:40]}' is ignored"
        scan.issues.append(RowIssue(0, key[:100], IssueCode.UNKNOWN_COLUMN, message, Severity.WARNING))
    if scan.total_rows == 0:
        scan.fatal_error = "the file has no sales rows"
        scan.issues.append(RowIssue(0, "file", IssueCode.EMPTY_FILE, scan.fatal_error))
    return scan


def read_sales_batch(
    path: Path, file_format: str, *, start_offset: int, first_row: int, size: int
) -> list[Record]:
    columns: tuple[str, ...] = ()
    if file_format == "csv":
        columns = _header(path)[0].columns
    f, records = _records(path, file_format, columns, start_offset, first_row)
    with f:
        out = list(islice(records, size))
    if file_format == "jsonl":  # JSON keys get the same aliases as CSV headers (qty, price, buyer, ...)
        out = [
            r if r.values is None else Record(r.row_number, r.end_offset, _aliased(r.values), r.issue)
            for r in out
        ]
    return out


def _aliased(values: dict) -> dict:  # type: ignore[type-arg]
    return {sales_column(k): v for k, v in values.items()}
