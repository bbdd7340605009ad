"""Reading an uploaded catalog from the blob store: the whole-file scan and one batch of records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from domain.catalog import HeaderCheck, IssueCode, RowIssue, Severity, check_header, unknown_keys
from domain.catalog_records import (
    CatalogFileError,
    DuplicateSkus,
    Record,
    iter_records,
    read_csv_header,
)

_HEARTBEAT_EVERY = 20_000


@dataclass
class Scan:
    total_rows: int = 0
    data_offset: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    fatal_error: str | None = None

    @property
    def duplicate_rows(self) -> int:
        return sum(1 for i in self.issues if i.code == IssueCode.DUPLICATE_SKU)


def _header(path: Path) -> tuple[HeaderCheck, int]:
    with path.open("rb") as f:
        raw, data_offset = read_csv_header(f)
    return check_header(raw), data_offset


def scan_file(path: Path, file_format: str, heartbeat: Callable[[int], None]) -> Scan:
    """One pass over the file: header problems, row count and duplicate SKUs (which need the whole file)."""
    scan = Scan()
    try:
        columns: tuple[str, ...] = ()
        if file_format == "csv":
            header, scan.data_offset = _header(path)
            scan.issues.extend(header.issues)
            if header.fatal:
                scan.fatal_error = "; ".join(i.message for i in header.issues if i.severity == Severity.ERROR)
                return scan
            columns = header.columns
        dups = DuplicateSkus()
        keys: set[str] = set()
        with path.open("rb") as f:
            f.seek(scan.data_offset)
            for record in iter_records(
                file_format, f, columns=columns, start_offset=scan.data_offset, first_row=1
            ):
                scan.total_rows += 1
                if record.values is not None:
                    issue = dups.check(record.values, record.row_number)
                    if issue is not None:
                        scan.issues.append(issue)
                    if file_format == "jsonl":
                        keys.update(record.values)
                if scan.total_rows % _HEARTBEAT_EVERY == 0:
                    heartbeat(scan.total_rows)
    except CatalogFileError as exc:
        code = IssueCode.EMPTY_FILE if "empty" in str(exc) else IssueCode.ENCODING
        scan.issues.append(RowIssue(0, "file", code, str(exc)))
        scan.fatal_error = str(exc)
        return scan
    for key in unknown_keys(keys)[:50]:
        scan.issues.append(
            RowIssue(
                0, key, IssueCode.UNKNOWN_COLUMN, f"unknown field '{key[:40]}' is ignored", Severity.WARNING
            )
        )
    if scan.total_rows == 0:
        scan.fatal_error = "the file has no product rows"
        scan.issues.append(RowIssue(0, "file", IssueCode.EMPTY_FILE, scan.fatal_error))
    return scan


def read_batch(path: Path, file_format: str, *, start_offset: int, first_row: int, size: int) -> list[Record]:
    columns: tuple[str, ...] = ()
    if file_format == "csv":
        header, _ = _header(path)
        columns = header.columns
    with path.open("rb") as f:
        f.seek(start_offset)
        return list(
            islice(
                iter_records(file_format, f, columns=columns, start_offset=start_offset, first_row=first_row),
                size,
            )
        )
