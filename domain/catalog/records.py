"""Reading catalog files record by record from any byte offset, so batches can resume mid-file.

The readers consume an iterable of raw byte lines (a file opened in binary mode and seeked) and yield each
record with the byte offset just past it: the workflow passes offsets between batches, never rows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from domain.catalog.exports import preset_for
from domain.catalog.presets import Group, ImportOptions, delimiter_of
from domain.catalog.rows import (
    IssueCode,
    ProductRow,
    RowIssue,
    Severity,
    column_key,
    normalise_row,
    normalise_sku,
)

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


def read_csv_header(lines: Iterable[bytes], options: ImportOptions | None = None) -> tuple[list[str], int]:
    """The raw header cells and the byte offset where data starts."""
    cells, offset, _ = read_header(lines, options)
    return cells, offset


def read_header(lines: Iterable[bytes], options: ImportOptions | None = None) -> tuple[list[str], int, str]:
    """The header cells, the byte offset where data starts, and the delimiter. A preset may put the header below
    template rows (Amazon flat files); tab-separated files (Amazon's) are recognised from their first line."""
    custom = options is not None and options.custom_columns
    it = iter(lines)
    head = list(islice(it, 1))
    if not head:
        raise CatalogFileError("the file is empty: expected a header row and at least one product row")
    delimiter = delimiter_of(head[0].decode("utf-8", "replace")) if custom else ","
    feed = _LineFeed(chain(head, it), 0)
    reader = csv.reader(feed, strict=True, delimiter=delimiter)
    preset = preset_for(options) if custom and options is not None else None
    seen: list[tuple[list[str], int]] = []
    try:
        for cells in reader:
            if not cells:
                continue
            seen.append((cells, feed.offset))
            if preset is None or len(seen) >= 5:
                break
    except csv.Error as exc:
        raise CatalogFileError(f"the header row cannot be read as CSV: {exc}") from exc
    if not seen:
        raise CatalogFileError("the file is empty: expected a header row and at least one product row")
    at = preset.header_row([c for c, _ in seen]) if preset is not None else 0
    return seen[at][0], seen[at][1], delimiter


def iter_csv_records(
    lines: Iterable[bytes], *, columns: Sequence[str], start_offset: int, first_row: int, delimiter: str = ","
) -> Iterator[Record]:
    """Data records from `start_offset`; `columns` are the normalised header names ("" = ignored)."""
    feed = _LineFeed(lines, start_offset)
    reader = csv.reader(feed, strict=True, delimiter=delimiter)
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
    file_format: str, lines: Iterable[bytes], *, columns: Sequence[str], start_offset: int, first_row: int,
    delimiter: str = ",",
) -> Iterator[Record]:  # fmt: skip
    if file_format == "csv":
        return iter_csv_records(
            lines, columns=columns, start_offset=start_offset, first_row=first_row, delimiter=delimiter
        )
    return iter_jsonl_records(lines, start_offset=start_offset, first_row=first_row)


class DuplicateSkus:
    """The first row carrying a SKU wins; later rows with the same SKU are reported and skipped."""

    __slots__ = ("first_row", "sku_of")

    def __init__(self, sku_of: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.first_row: dict[str, int] = {}
        self.sku_of = sku_of or (lambda values: values.get("sku"))

    def check(self, values: dict[str, Any], row_number: int) -> RowIssue | None:
        sku = normalise_sku(self.sku_of(values))
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
    skipped_rows: int = 0  # rows that are no product (a preset's image rows, grouped products)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == Severity.WARNING)


def validate_batch(
    records: Iterable[Record], duplicate_rows: Collection[int], options: ImportOptions | None = None
) -> ValidatedBatch:
    """Rows the scan flagged as duplicates are skipped silently: their issue is already recorded. With a preset or
    a mapping, each row is read into our fields first (rows that are no product, like image rows, are skipped)."""
    batch = ValidatedBatch([], [], 0)
    seen: set[str] = set()
    preset = preset_for(options) if options is not None and options.custom_columns else None
    group = Group()
    for record in records:
        if preset is not None and record.values is not None and record.row_number not in duplicate_rows:
            mapped, notes = preset.row(record.values, group, record.row_number)
            batch.issues.extend(notes)
            if mapped is None:
                batch.skipped_rows += 1
                continue
            record = Record(record.row_number, record.end_offset, mapped, record.issue)
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
