"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps everywhere.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC and come
    back aware. Naive datetimes are refused on the way in: they are always a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Money(**kw: Any) -> sa.Column[Decimal]:
    """Money is NUMERIC(14, 4): exact on PostgreSQL; SQLAlchemy keeps Decimal on SQLite."""
    return sa.Column(sa.Numeric(14, 4, asdecimal=True), **kw)


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp_field(**kw: Any) -> Any:
    """A required timezone-aware timestamp column that defaults to now (SQLModel `Field`)."""
    from sqlmodel import Column, Field

    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, **kw))


def optional_timestamp_field() -> Any:
    from sqlmodel import Column, Field

    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
