"""Master stock rules: what may be published, whether an order can be allocated, and what a reconcile must fix.

The database holds on-hand and reserved per SKU; the ledger is the history. Everything here is a pure function of
numbers the shell reads under a row lock, so the same rules serve the order flow, adjustments and reconciles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from domain.bounds import MAX_ON_HAND

LedgerKind = Literal["receipt", "sale", "cancellation", "return", "adjustment", "transfer"]
ShortagePolicy = Literal["cancel", "backorder"]

# How each kind of transaction moves on-hand: +1 adds units, -1 removes them, 0 signed by the caller.
KIND_SIGN: dict[str, int] = {
    "receipt": 1,
    "return": 1,
    "cancellation": 1,
    "sale": -1,
    "adjustment": 0,
    "transfer": 0,
}


def available_to_publish(on_hand: int, reserved: int, safety_buffer: int = 0) -> int:
    """Units a marketplace may offer: on hand - reserved - that channel's buffer, never below zero."""
    return max(0, on_hand - reserved - max(0, safety_buffer))


@dataclass(frozen=True)
class Allocation:
    ok: bool
    sku: str
    quantity: int
    on_hand_after: int
    reserved_after: int
    shortage: int = 0
    action: Literal["allocated", "cancel", "backorder"] = "allocated"
    reason: str = ""


def allocate(
    *, sku: str, on_hand: int, reserved: int, quantity: int, policy: ShortagePolicy = "cancel"
) -> Allocation:
    """Decide a sale of `quantity` units. The caller holds the SKU's row lock while deciding and applying, so two
    orders for the last unit are decided one after the other and only one succeeds."""
    if quantity <= 0:
        raise ValueError("an order line needs a positive quantity")
    free = on_hand - reserved
    if free >= quantity:
        return Allocation(True, sku, quantity, on_hand - quantity, reserved)
    shortage = quantity - max(0, free)
    reason = f"only {max(0, free)} of {quantity} available"
    if policy == "backorder":
        # Stock never goes negative: the order is kept open and fulfilled by the next receipt.
        return Allocation(False, sku, quantity, on_hand, reserved, shortage, "backorder", reason)
    return Allocation(False, sku, quantity, on_hand, reserved, shortage, "cancel", reason)


def apply_movement(*, on_hand: int, kind: str, quantity: int) -> int:
    """On-hand after a ledger movement. Adjustments and transfers carry their own sign; others are unsigned."""
    sign = KIND_SIGN.get(kind)
    if sign is None:
        raise ValueError(f"unknown inventory transaction kind {kind!r}")
    if sign == 0:
        delta = quantity
    else:
        if quantity <= 0:
            raise ValueError(f"{kind} needs a positive quantity")
        delta = sign * quantity
    after = on_hand + delta
    if after < 0:
        raise ValueError(f"{kind} of {quantity} would leave on-hand at {after}; stock never goes negative")
    if after > MAX_ON_HAND:
        raise ValueError(
            f"{kind} of {quantity} would put on-hand at {after}, above the limit of {MAX_ON_HAND}"
        )
    return after


DriftAction = Literal["none", "set", "missing_on_marketplace", "unknown_sku"]


@dataclass(frozen=True)
class DriftItem:
    sku: str
    expected: int | None  # what the master says the channel should show
    found: int | None  # what the marketplace shows
    action: DriftAction


def reconcile_diff(
    expected: Mapping[str, int], found: Mapping[str, int | None], *, listed: Iterable[str] | None = None
) -> list[DriftItem]:
    """Compare what each listing should show with what the marketplace shows.

    `expected`: SKU -> available to publish, for SKUs the master knows and that are listed on this channel.
    `found`: SKU -> quantity on the marketplace (None = listed but quantity unknown).
    Listings the master does not know are reported, never touched: a human decides about them.
    """
    items: list[DriftItem] = []
    for sku, want in expected.items():
        if sku not in found:
            items.append(DriftItem(sku, want, None, "missing_on_marketplace"))
            continue
        have = found[sku]
        items.append(DriftItem(sku, want, have, "none" if have == want else "set"))
    known = set(expected)
    extra = set(listed) if listed is not None else set(found)
    for sku in sorted(extra - known):
        items.append(DriftItem(sku, None, found.get(sku), "unknown_sku"))
    return items


def is_stale_publish(*, publish_version: int, applied_version: int) -> bool:
    """A publish computed from an older stock version than the one already applied must be dropped: otherwise a
    slow reconcile could overwrite the quantity an order push just set."""
    return publish_version < applied_version
