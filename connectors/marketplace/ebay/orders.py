"""The orders cursor for the Fulfillment API's getOrders (filter=lastmodifieddate:[since..], limit/offset).

A sweep pages through everything modified since `since`; while it runs we remember the newest lastModifiedDate seen
(`high`). Only the sweep's last page hands out a cursor that moves `since` forward, to `high` itself: the boundary is
inclusive, so the newest order(s) are seen again on the next poll (at-least-once; consumers dedupe on order id +
updated_at) rather than an order modified in the same millisecond being skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.errors import ValidationError

PREFIX = "ebay-orders-v1"


@dataclass(frozen=True)
class OrdersCursor:
    since: datetime
    offset: int = 0
    high: datetime | None = None

    def encode(self) -> str:
        high = self.high.isoformat() if self.high else ""
        return f"{PREFIX}|{self.since.isoformat()}|{self.offset}|{high}"

    @classmethod
    def decode(cls, raw: str) -> OrdersCursor:
        try:
            prefix, since, offset, high = raw.split("|")
            if prefix != PREFIX:
                raise ValueError(prefix)
            return cls(
                since=datetime.fromisoformat(since),
                offset=int(offset),
                high=datetime.fromisoformat(high) if high else None,
            )
        except ValueError as exc:
            raise ValidationError(f"not an eBay orders cursor: {raw!r}", marketplace="ebay") from exc

    def advance(self, *, page_high: datetime | None, next_offset: int | None) -> OrdersCursor:
        """`next_offset` comes from the page's `next` link (None on the sweep's last page)."""
        high = max(filter(None, (self.high, page_high)), default=None)
        if next_offset is not None:
            return OrdersCursor(since=self.since, offset=next_offset, high=high)
        return OrdersCursor(since=high or self.since, offset=0, high=None)
