"""Tables of the operators' tooling. Migration 0007."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Column, Field, SQLModel

from merchflow.db.types import UTCDateTime, utcnow


def _ts() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _ts_opt() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class AccountHealth(SQLModel, table=True):
    """How a marketplace account's API calls have been ending, written by every worker on state changes only."""

    __tablename__ = "ops_account_health"
    marketplace: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=100)  # the account's name
    failing_since: datetime | None = _ts_opt()  # first failure after the last success; None: healthy
    last_failure_at: datetime | None = _ts_opt()
    last_success_at: datetime | None = _ts_opt()
    last_error: str | None = Field(default=None, max_length=1000)
    failures: int = 0  # since failing_since
    updated_at: datetime = _ts()


class OpsAlert(SQLModel, table=True):
    """One alert's state: a notice when it fires, one when it recovers, nothing in between (deduplication)."""

    __tablename__ = "ops_alert"
    key: str = Field(primary_key=True, max_length=200)  # e.g. account:ebay:us, order-sync-p95
    kind: str = Field(max_length=40)
    status: str = Field(default="ok", max_length=10)  # firing | ok
    episode: int = 0  # increases each time it fires; notices are deduplicated per episode
    summary: str = Field(default="", max_length=500)
    since: datetime = _ts()
    updated_at: datetime = _ts()
