"""Properties of the replenishment formulas over generated inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.replenishment.classes import abc_classes
from domain.replenishment.plan import plan_replenishment
from domain.replenishment.policy import economic_order_quantity, round_order_quantity, safety_stock

pos = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)


@given(q=st.floats(min_value=0.01, max_value=1e6), moq=st.integers(0, 5000), pack=st.integers(1, 500))
def test_rounded_quantity_is_the_smallest_pack_multiple_covering_wish_and_moq(
    q: float, moq: int, pack: int
) -> None:
    r = float(round_order_quantity(q, moq, pack))
    assert r >= q - 1e-6 and r >= moq
    assert abs(r / pack - round(r / pack)) < 1e-9
    assert r - pack < max(q, moq) + 1e-6  # one pack less would not do


@given(
    d=pos,
    sd=pos,
    lt=st.floats(0.5, 120),
    lt_sd=st.floats(0, 30),
    p1=st.floats(0.5, 0.989),
    dp=st.floats(0.001, 0.01),
)
def test_safety_stock_grows_with_service_level_and_is_zero_without_uncertainty(
    d: float, sd: float, lt: float, lt_sd: float, p1: float, dp: float
) -> None:
    low, high = safety_stock(p1, d, sd, lt, lt_sd), safety_stock(p1 + dp, d, sd, lt, lt_sd)
    assert 0 <= low <= high
    assert safety_stock(p1, d, 0.0, lt, 0.0) == 0


@given(d=pos, s=pos, h=pos, k=st.floats(1.1, 100))
def test_eoq_scales_with_the_square_root_of_demand(d: float, s: float, h: float, k: float) -> None:
    assert np.isclose(economic_order_quantity(k * d, s, h), np.sqrt(k) * economic_order_quantity(d, s, h))


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_abc_ranks_are_monotone_in_revenue(values: list[float]) -> None:
    revenue = pd.Series(values, index=[f"s{i}" for i in range(len(values))])
    cls = abc_classes(revenue)
    assert cls.notna().all()
    rank = cls.map({"A": 0, "B": 1, "C": 2})
    order = revenue.sort_values(ascending=False, kind="stable").index
    assert rank.loc[order].is_monotonic_increasing
    if revenue.sum() > 0:
        assert (cls == "A").any()  # the top seller always opens class A


@settings(max_examples=60, deadline=None)  # a loaded shared machine: pandas calls vary in time
@given(
    on_hand=st.lists(st.floats(0, 5000), min_size=1, max_size=20),
    demand=st.floats(0.1, 200),
    sigma=st.floats(0, 100),
    moq=st.integers(1, 300),
    pack=st.integers(1, 48),
)
def test_an_order_brings_the_position_above_the_reorder_point_and_none_is_placed_above_it(
    on_hand: list[float], demand: float, sigma: float, moq: int, pack: int
) -> None:
    n = len(on_hand)
    items = pd.DataFrame(
        {"sku": [f"s{i}" for i in range(n)], "supplier_id": "sup", "on_hand": on_hand, "unit_cost": 5.0}
    )
    dem = pd.DataFrame(
        {"sku": items["sku"], "demand_per_day": demand, "sigma_per_day": sigma, "has_history": True}
    )
    sup = pd.DataFrame(
        {
            "supplier_id": ["sup"],
            "lead_time_days": [10.0],
            "lead_time_std_days": [2.0],
            "moq": [moq],
            "pack_size": [pack],
        }
    )
    plan = plan_replenishment(items, dem, sup)
    below = plan["inventory_position"] <= plan["reorder_point"]
    assert (plan.loc[~below, "order_qty"] == 0).all()
    after = plan["inventory_position"] + plan["order_qty"]
    assert (after[below] > plan.loc[below, "reorder_point"]).all()
    assert (plan.loc[below, "order_qty"] >= moq).all()
