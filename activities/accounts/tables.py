"""Tables of marketplace accounts' connect flows. The accounts themselves are shared (merchflow.db.models): every
process reads them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from merchflow.db.types import optional_timestamp_field, timestamp_field


class ConnectAttempt(SQLModel, table=True):
    """One consent round trip. The `state` nonce travels through the marketplace and back; only its digest is
    stored, it expires, and it is consumed by the first callback that carries it (a replayed callback is refused)."""

    __tablename__ = "connect_attempt"
    state_digest: str = Field(primary_key=True, max_length=64)  # sha256 of the state nonce
    account_id: int = Field(foreign_key="marketplace_account.id")
    marketplace: str = Field(max_length=32)
    shop: str | None = Field(
        default=None, max_length=255
    )  # Shopify: the shop domain the consent was asked on
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field()
    used_at: datetime | None = optional_timestamp_field()
    outcome: str | None = Field(default=None, max_length=20)  # connected | refused | failed
    error: str | None = Field(default=None, max_length=1000)
