"""Reading catalog files record by record from any byte offset, so batches can resume mid-file.

The readers consume an iterable of raw byte lines (a file opened in binary mode and seeked) and yield each
record with the byte offset just past it: the workflow passes offsets between batches, never rows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.catalog import IssueCode, ProductRow, RowIssue, Severity, column_key, normalise_row, normalise_sku

UTF8_BOM = b"\xef\xbb\xbf"
FORMATS = ("csv", "jsonl")


class CatalogFileError(ValueError):
    """The file as a whole cannot be read (encoding, no header): the import fails with this message."""


@dataclass(frozen=True, slots=True)
class Record:
    row_number: int
    end_offset: int  # byte offset just past this record: where the next batch starts
    values: dict[str, Any] | None  # None when the record could not be parsed
    issue: RowIssue | None = None


class _LineFeed:
    """Decodes byte lines as UTF-8 while counting how many bytes were consumed."""

    __slots__ = ("_lines", "line_number", "offset")

    def __init__(self, lines: Iterable[bytes], offset: int) -> None:
        self._lines = iter(lines)
        self.offset = offset
        self.line_number = 0  # physical lines read by this feed

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        start = self.offset
        self.offset += len(raw)
        self.line_number += 1
        if start == 0 and raw.startswith(UTF8_BOM):
            raw = raw[3:]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogFileError(
                f"the file is not valid UTF-8 at byte {start + exc.start}; save it as UTF-8 and upload again"
            ) from exc


def read_csv_header(lines: Iterable[bytes]) -> tuple[list[str], int]:
    """The raw header cells and the byte offset where data starts."""
    feed = _LineFeed(lines, 0)
    reader = csv.reader(feed, strict=True)
    try:
        for cells in reader:
            if cells:
                return cells, feed.offset
    except csv.Error as exc:
        raise CatalogFileError(f"the header row cannot be read as CSV: {exc}") from exc
    raise CatalogFileError("the file is empty: expected a header row and at least one product row")


def iter_csv_records(
    lines: Iterable[bytes], *, columns: Sequence[str], start_offset: int, first_row: int
) -> Iterator[Record]:
    """Data records from `start_offset`; `columns` are the normalised header names ("" = ignored)."""
    feed = _LineFeed(lines, start_offset)
    reader = csv.reader(feed, strict=True)
    row = first_row
    width = len(columns)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(
                row,
                feed.offset,
                None,
                RowIssue(row, "row", IssueCode.MALFORMED_ROW, f"row cannot be read as CSV: {exc}"),
            )
            row += 1
            continue
        if not cells or not any(c.strip() for c in cells):
            continue  # blank lines and ",,,," rows from spreadsheets carry nothing
        if len(cells) != width:
            issue = RowIssue(
                row, "row", IssueCode.MALFORMED_ROW, f"row has {len(cells)} fields but the header has {width}"
            )
            yield Record(row, feed.offset, None, issue)
        else:
            yield Record(row, feed.offset, {k: v for k, v in zip(columns, cells, strict=True) if k})
        row += 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def iter_jsonl_records(lines: Iterable[bytes], *, start_offset: int, first_row: int) -> Iterator[Record]:
    """One JSON object per line; the row number is the line number, blank lines are skipped."""
    feed = _LineFeed(lines, start_offset)
    row = first_row
    for text in feed:
        if text.strip():
            try:
                obj = _DECODER.decode(text)
            except ValueError as exc:
                yield Record(
                    row,
                    feed.offset,
                    None,
                    RowIssue(row, "row", IssueCode.MALFORMED_ROW, f"line is not valid JSON: {exc}"),
                )
            else:
                if isinstance(obj, dict):
                    yield Record(row, feed.offset, {column_key(str(k)): v for k, v in obj.items()})
                else:
                    yield Record(
                        row,
                        feed.offset,
                        None,
                        RowIssue(
                            row,
                            "row",
                            IssueCode.MALFORMED_ROW,
                            f"line must be a JSON object, got {type(obj).__name__}",
                        ),
                    )
        row += 1


def iter_records(
    file_format: str, lines: Iterable[bytes], *, columns: Sequence[str], start_offset: int, first_row: int
) -> Iterator[Record]:
    if file_format == "csv":
        return iter_csv_records(lines, columns=columns, start_offset=start_offset, first_row=first_row)
    return iter_jsonl_records(lines, start_offset=start_offset, first_row=first_row)


class DuplicateSkus:
    """The first row carrying a SKU wins; later rows with the same SKU are reported and skipped."""

    __slots__ = ("first_row",)

    def __init__(self) -> None:
        self.first_row: dict[str, int] = {}

    def check(self, values: dict[str, Any], row_number: int) -> RowIssue | None:
        sku = normalise_sku(values.get("sku"))
        if sku is None:
            return None
        first = self.first_row.setdefault(sku, row_number)
        if first == row_number:
            return None
        shown = sku if len(sku) <= 64 else sku[:63] + "…"
        return RowIssue(
            row_number,
            "sku",
            IssueCode.DUPLICATE_SKU,
            f"duplicate SKU '{shown}' in this file (first on row {first}); row skipped",
        )


@dataclass(slots=True)
class ValidatedBatch:
    products: list[ProductRow]  # one per SKU, ready to upsert
    issues: list[RowIssue]
    invalid_rows: int

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == Severity.WARNING)


def validate_batch(records: Iterable[Record], duplicate_rows: Collection[int]) -> ValidatedBatch:
    """Rows the scan flagged as duplicates are skipped silently: their issue is already recorded."""
    batch = ValidatedBatch([], [], 0)
    seen: set[str] = set()
    for record in records:
        if record.row_number in duplicate_rows:
            batch.invalid_rows += 1
            continue
        if record.values is None:
            batch.invalid_rows += 1
            if record.issue is not None:
                batch.issues.append(record.issue)
            continue
        product, issues = normalise_row(record.values, record.row_number)
        batch.issues.extend(issues)
        if product is None:
            batch.invalid_rows += 1
        elif product.sku in seen:  # the scan catches these; never upsert one SKU twice in a statement
            batch.invalid_rows += 1
            message = f"duplicate SKU '{product.sku}' in this file; row skipped"
            batch.issues.append(RowIssue(record.row_number, "sku", IssueCode.DUPLICATE_SKU, message))
        else:
            seen.add(product.sku)
            batch.products.append(product)
    return batch


def changed_products(
    products: Sequence[ProductRow], stored_hashes: Mapping[str, str | None]
) -> tuple[list[ProductRow], int]:
    """Products whose content differs from what is stored, and how many of them are new."""
    changed = [p for p in products if stored_hashes.get(p.sku, "") != p.content_hash]
    return changed, sum(1 for p in changed if p.sku not in stored_hashes)
