"""Reading an uploaded catalog from the blob store: the whole-file scan and one batch of records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from domain.catalog.exports import header_check, preset_for
from domain.catalog.presets import ImportOptions
from domain.catalog.records import (
    CatalogFileError,
    DuplicateSkus,
    Record,
    iter_records,
    read_header,
)
from domain.catalog.rows import HeaderCheck, IssueCode, RowIssue, Severity, unknown_keys

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


def _header(path: Path, options: ImportOptions | None = None) -> tuple[HeaderCheck, int, str]:
    with path.open("rb") as f:
        raw, data_offset, delimiter = read_header(f, options)
    return header_check(raw, options), data_offset, delimiter


def scan_file(
    path: Path, file_format: str, heartbeat: Callable[[int], None], options: ImportOptions | None = None
) -> Scan:
    """One pass over the file: header problems, row count and duplicate SKUs (which need the whole file)."""
    scan = Scan()
    custom = options is not None and options.custom_columns
    try:
        columns: tuple[str, ...] = ()
        delimiter = ","
        if file_format == "csv":
            header, scan.data_offset, delimiter = _header(path, options)
            scan.issues.extend(header.issues)
            if header.fatal:
                scan.fatal_error = "; ".join(i.message for i in header.issues if i.severity == Severity.ERROR)
                return scan
            columns = header.columns
        dups = DuplicateSkus(preset_for(options).sku_of if custom and options is not None else None)
        keys: set[str] = set()
        with path.open("rb") as f:
            f.seek(scan.data_offset)
            for record in iter_records(
                file_format,
                f,
                columns=columns,
                start_offset=scan.data_offset,
                first_row=1,
                delimiter=delimiter,
            ):
                scan.total_rows += 1
                if record.values is not None:
                    issue = dups.check(record.values, record.row_number)
                    if issue is not None:
                        scan.issues.append(issue)
                    if file_format == "jsonl" and not custom:
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


def read_batch(
    path: Path,
    file_format: str,
    *,
    start_offset: int,
    first_row: int,
    size: int,
    options: ImportOptions | None = None,
) -> list[Record]:
    """`size` records from `start_offset`, and then the rest of a product group the last one belongs to (a preset's
    variant rows after their product), so no batch starts inside a group."""
    columns: tuple[str, ...] = ()
    delimiter = ","
    if file_format == "csv":
        header, _, delimiter = _header(path, options)
        columns = header.columns
    preset = preset_for(options) if options is not None and options.custom_columns else None
    with path.open("rb") as f:
        f.seek(start_offset)
        records = iter_records(
            file_format,
            f,
            columns=columns,
            start_offset=start_offset,
            first_row=first_row,
            delimiter=delimiter,
        )
        batch = list(islice(records, size))
        if preset is None or len(batch) < size:
            return batch
        last = next((r for r in reversed(batch) if r.values is not None), None)
        key = preset.group_key(last.values) if last is not None and last.values is not None else ""
        for record in records:
            if record.values is None or not preset.continues(record.values, key):
                # not ours: the next batch starts at this record, so stop before it
                return batch
            batch.append(record)
        return batch
