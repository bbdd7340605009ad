"""The ranges every number crossing the edge must fall in, so a value the database, `datetime` or a workflow timer
cannot hold is refused with a 422 naming the field instead of a 500 or a workflow that fails forever.

Integer columns are 32-bit on PostgreSQL (SQLite stores 64 bits, and refuses anything larger with an
OverflowError): ids, versions, counts and quantities all fit in INT32.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, Strict

INT32_MAX = 2**31 - 1
MAX_ROW_ID = INT32_MAX  # autoincrement ids of every table
MAX_VERSION = INT32_MAX  # optimistic-concurrency versions
# One movement of stock: a million units is far beyond any real receipt and keeps on-hand well inside INT32.
MAX_UNITS_PER_MOVEMENT = 1_000_000
MAX_ON_HAND = INT32_MAX
# Paging: an offset past this is not a page anyone reads (use the cursor routes to walk further).
MAX_OFFSET = 10_000_000
# How far back "older than N hours" may look, and how long one approver group may be given: ten years and one
# year, both far inside what `datetime` can add to today.
MAX_AGE_HOURS = 24 * 365 * 10
MAX_TIMEOUT_HOURS = 24 * 365
# At most this many accounts in one request's filter (there are a handful in practice).
MAX_ACCOUNT_FILTER = 1000

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
# Inputs that take JSON's own types only: pydantic's lax mode would read `0` as false and `false` as 0.0.
Flag = Annotated[bool, Strict()]
Whole = Annotated[int, Strict()]  # a JSON integer: not `false`, not "3"
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # an integer is a number too
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def iso_timestamp(value: object) -> object:
    """Timestamps come as ISO 8601 text; a bare number would be read as seconds since 1970, never what was meant."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("expected an ISO 8601 date-time with a time zone, e.g. 2025-01-31T00:00:00Z")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(iso_timestamp)]
