"""What is wrong with a catalog file or row: a severity, a machine-readable code and a message for sellers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the row is not imported
    WARNING = "warning"  # imported, but worth a look


class IssueCode(StrEnum):
    EMPTY_FILE = "empty_file"
    ENCODING = "encoding"
    MISSING_COLUMN = "missing_column"
    DUPLICATE_COLUMN = "duplicate_column"
    UNKNOWN_COLUMN = "unknown_column"
    MALFORMED_ROW = "malformed_row"
    MISSING_VALUE = "missing_value"
    INVALID_VALUE = "invalid_value"
    TOO_LONG = "too_long"
    DUPLICATE_SKU = "duplicate_sku"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True, slots=True)
class RowIssue:
    row_number: int  # 0 = the file as a whole
    field: str  # a column name, or "row" / "file"
    code: str
    message: str
    severity: str = Severity.ERROR
