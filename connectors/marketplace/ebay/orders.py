"""The orders cursor for the Fulfillment API's getOrders (filter=lastmodifieddate:[since..until], limit/offset).

getOrders has no continuation token: paging is `offset` over a live result set whose sort order eBay does not
document. A sweep therefore pages a window closed at both ends, fixed when the sweep starts: `until` is a few seconds
in the past (`orders_settle_seconds`, for clock skew and eBay's indexing lag). While the sweep runs, orders can only
leave that window (a modification moves their lastModifiedDate past `until`), never enter it, so every order still in
it keeps its place relative to the others; and each page's `total` says how many left. When the total shrank by d,
at most d orders before our offset left, so the offset steps back by d (a few orders may come twice, none is skipped).
Should the total ever grow (an order indexed late), the sweep starts over from offset 0. Orders that left are in the
next window, `[until..]` - inclusive, so an order modified exactly at `until` is seen twice rather than never.

However many orders share one lastModifiedDate, they are paged through like any others: the cursor never serves the
same page again and never skips one (consumers dedupe on order id anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from connectors.errors import ValidationError

PREFIX = "ebay-orders-v2"
LEGACY_PREFIX = "ebay-orders-v1"  # since|offset|high: resumed as a new sweep from `since`


@dataclass(frozen=True)
class OrdersCursor:
    since: datetime
    until: datetime | None = None  # None: between sweeps (the next page starts a new one)
    offset: int = 0
    total: int | None = None  # the window's size when the previous page was read

    def encode(self) -> str:
        until = self.until.isoformat() if self.until else ""
        total = "" if self.total is None else str(self.total)
        return f"{PREFIX}|{self.since.isoformat()}|{until}|{self.offset}|{total}"

    @classmethod
    def decode(cls, raw: str) -> OrdersCursor:
        try:
            parts = raw.split("|")
            if parts[0] == LEGACY_PREFIX and len(parts) == 4:
                return cls(since=datetime.fromisoformat(parts[1]))
            prefix, since, until, offset, total = parts
            if prefix != PREFIX:
                raise ValueError(prefix)
            return cls(
                since=datetime.fromisoformat(since),
                until=datetime.fromisoformat(until) if until else None,
                offset=int(offset),
                total=int(total) if total else None,
            )
        except ValueError as exc:
            raise ValidationError(f"not an eBay orders cursor: {raw!r}", marketplace="ebay") from exc

    def start(self, until: datetime) -> OrdersCursor:
        """A new sweep of [since..until] (`until` never before `since`)."""
        return OrdersCursor(since=self.since, until=max(until, self.since), offset=0, total=None)

    def realign(self, total: int) -> OrdersCursor | None:
        """Where to read instead, given the window's size now: None when the offset still holds."""
        if self.total is None or total == self.total:
            return None
        if total < self.total:  # orders left the window: at most that many were before us
            return replace(self, offset=max(0, self.offset - (self.total - total)), total=total)
        return replace(self, offset=0, total=total)  # an order arrived late, place unknown: start over

    def after(self, received: int, total: int) -> OrdersCursor:
        """The cursor after a page of `received` orders read at this offset, in a window of `total`."""
        assert self.until is not None
        if received and self.offset + received < total:
            return replace(self, offset=self.offset + received, total=total)
        return OrdersCursor(since=self.until)  # the sweep is done: the next one starts where this one ended
