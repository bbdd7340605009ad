from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.stock.rules import (
    allocate,
    apply_movement,
    available_to_publish,
    is_stale_publish,
    reconcile_diff,
)


def test_available_never_negative_and_respects_reserved_and_buffer() -> None:
    assert available_to_publish(10, 3, 2) == 5
    assert available_to_publish(2, 3) == 0
    assert available_to_publish(5, 0, 10) == 0
    assert available_to_publish(5, 0, -3) == 5  # a negative buffer is treated as none


def test_allocation_of_the_last_unit() -> None:
    first = allocate(sku="A", on_hand=1, reserved=0, quantity=1)
    assert first.ok and first.on_hand_after == 0
    second = allocate(sku="A", on_hand=first.on_hand_after, reserved=0, quantity=1)
    assert not second.ok and second.action == "cancel" and second.shortage == 1
    assert second.on_hand_after == 0
    back = allocate(sku="A", on_hand=0, reserved=0, quantity=2, policy="backorder")
    assert back.action == "backorder" and back.on_hand_after == 0


def test_reserved_units_are_not_sold() -> None:
    a = allocate(sku="A", on_hand=5, reserved=4, quantity=2)
    assert not a.ok and a.shortage == 1


@given(st.integers(0, 50), st.integers(0, 50), st.lists(st.integers(1, 5), max_size=30))
def test_sequential_allocations_never_oversell(on_hand: int, reserved: int, orders: list[int]) -> None:
    reserved = min(reserved, on_hand)
    sellable = on_hand - reserved
    sold = 0
    for q in orders:
        a = allocate(sku="A", on_hand=on_hand, reserved=reserved, quantity=q)
        if a.ok:
            sold += q
        on_hand = a.on_hand_after
        assert on_hand >= reserved >= 0
    assert sold <= sellable  # never more than was free at the start


def test_movements() -> None:
    assert apply_movement(on_hand=3, kind="receipt", quantity=5) == 8
    assert apply_movement(on_hand=3, kind="adjustment", quantity=-2) == 1
    assert apply_movement(on_hand=3, kind="return", quantity=1) == 4
    with pytest.raises(ValueError, match="never goes negative"):
        apply_movement(on_hand=1, kind="sale", quantity=2)
    with pytest.raises(ValueError, match="positive"):
        apply_movement(on_hand=1, kind="receipt", quantity=-1)
    with pytest.raises(ValueError, match="unknown"):
        apply_movement(on_hand=1, kind="theft", quantity=1)


def test_reconcile_diff() -> None:
    items = {i.sku: i for i in reconcile_diff({"A": 5, "B": 0, "C": 2}, {"A": 5, "B": 3, "X": 9})}
    assert items["A"].action == "none"
    assert items["B"].action == "set" and items["B"].expected == 0 and items["B"].found == 3
    assert items["C"].action == "missing_on_marketplace"
    assert items["X"].action == "unknown_sku" and items["X"].expected is None


def test_stale_publish() -> None:
    assert is_stale_publish(publish_version=3, applied_version=4)
    assert not is_stale_publish(publish_version=4, applied_version=4)
