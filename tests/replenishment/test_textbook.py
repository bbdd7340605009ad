"""Replenishment formulas against worked textbook examples, and the per-SKU plan on small catalogues."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.replenishment.classes import abc_classes, xyz_classes
from domain.replenishment.plan import ReplenishmentSettings, plan_replenishment, suggestions_by_supplier
from domain.replenishment.policy import economic_order_quantity, reorder_point, safety_stock


def test_eoq_heizer_render_sharp_inc() -> None:
    # Heizer & Render, Operations Management, EOQ example "Sharp, Inc." (hypodermic needles):
    # D = 1,000 units a year, S = $10 per order, H = $0.50 per unit and year -> Q* = 200 units
    assert economic_order_quantity(1_000, 10, 0.50) == pytest.approx(200.0)


def test_safety_stock_chopra_meindl_demand_uncertainty() -> None:
    # Chopra & Meindl, Supply Chain Management, safety inventory chapter (Lego at a Walmart store):
    # weekly demand N(2,500, 500), lead time 2 weeks, cycle service level 90 %
    # -> sd over the lead time = 707, safety inventory = NORMSINV(0.9) * 707 = 906, reorder point = 5,906
    per_day_mean, per_day_sd, lead_days = 2_500 / 7, 500 / np.sqrt(7), 14
    assert safety_stock(0.90, per_day_mean, per_day_sd, lead_days) == pytest.approx(906, abs=1)
    assert reorder_point(0.90, per_day_mean, per_day_sd, lead_days) == pytest.approx(5_906, abs=1)


def test_safety_stock_chopra_meindl_lead_time_uncertainty() -> None:
    # Chopra & Meindl, Supply Chain Management, safety inventory chapter (Dell components):
    # daily demand N(2,500, 500), lead time 7 days with sd 7 days, CSL 90 %
    # -> sd of lead-time demand = sqrt(7 * 500^2 + 2,500^2 * 7^2) = 17,550; safety inventory = 22,491
    assert safety_stock(0.90, 2_500, 500, 7, 7) == pytest.approx(22_491, abs=2)


def test_abc_worked_example_80_15_5() -> None:
    # ten SKUs, revenue 1,000 in total; cumulative share before each: 0, 50, 70, 80, 87, 92, 95.5, 97.5, 99, 99.5 %
    revenue = pd.Series(
        [500, 200, 100, 70, 50, 35, 20, 15, 5, 5], index=[f"S{i}" for i in range(10)], dtype=float
    )
    cls = abc_classes(revenue.sample(frac=1.0, random_state=1))  # order of the input does not matter
    assert cls.reindex(revenue.index).tolist() == ["A", "A", "A", "B", "B", "B", "C", "C", "C", "C"]


def test_xyz_by_coefficient_of_variation() -> None:
    demand = pd.DataFrame(
        {
            "sku": ["steady"] * 4 + ["wobbly"] * 4 + ["spiky"] * 4 + ["dead"] * 4,
            "y": [10, 11, 9, 10, 2, 14, 6, 18, 0, 0, 30, 0, 0, 0, 0, 0],
        }
    )
    assert xyz_classes(demand).to_dict() == {"dead": "Z", "spiky": "Z", "steady": "X", "wobbly": "Y"}


def _catalogue() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame(
        {
            "sku": ["low", "fine", "new", "orphan"],
            "supplier_id": ["acme", "acme", "bolt", None],
            "on_hand": [20.0, 500.0, 3.0, 0.0],
            "on_order": [5.0, 0.0, 0.0, 0.0],
            "unit_cost": [4.0, 4.0, 10.0, 2.0],
        }
    )
    demand = pd.DataFrame(
        {
            "sku": ["low", "fine", "orphan"],
            "demand_per_day": [10.0, 10.0, 1.0],
            "sigma_per_day": [3.0, 3.0, 0.5],
            "has_history": [True, True, True],
        }
    )
    suppliers = pd.DataFrame(
        {
            "supplier_id": ["acme", "bolt"],
            "lead_time_days": [7.0, 21.0],
            "lead_time_std_days": [2.0, 0.0],
            "moq": [100.0, 60.0],
            "pack_size": [12.0, 25.0],
            "currency": ["EUR", "USD"],
            "contact": ["po@acme.example", "buy@bolt.example"],
        }
    )
    return items, demand, suppliers


def test_plan_orders_below_the_reorder_point_rounded_to_moq_and_pack() -> None:
    items, demand, suppliers = _catalogue()
    s = ReplenishmentSettings(service_level=0.95, order_cost=50.0, holding_rate=0.25)
    plan = plan_replenishment(items, demand, suppliers, s).set_index("sku")
    low = plan.loc["low"]
    expected_ss = 1.6449 * np.sqrt(7 * 3.0**2 + 10.0**2 * 2.0**2)  # z(95 %) * sqrt(L sd^2 + d^2 sd_L^2)
    assert low["safety_stock"] == pytest.approx(expected_ss, rel=1e-3)
    assert low["reorder_point"] == pytest.approx(70 + expected_ss, rel=1e-3)
    eoq = np.sqrt(2 * 3_650 * 50 / (0.25 * 4.0))
    assert low["eoq"] == pytest.approx(eoq)
    wanted = low["reorder_point"] + eoq - 25  # up to s + Q from the position (20 on hand + 5 on order)
    assert low["order_qty"] == pytest.approx(np.ceil(wanted / 12) * 12)
    assert low["order_qty"] % 12 == 0 and low["order_qty"] >= 100
    assert plan.loc["fine", "order_qty"] == 0  # 500 on hand is far above its reorder point
    # no history: the defaults (reorder point 10, quantity 50), rounded to bolt's MOQ 60 in packs of 25 -> 75
    assert plan.loc["new", "basis"].startswith("defaults")
    assert plan.loc["new", "reorder_point"] == 10 and plan.loc["new", "order_qty"] == 75


def test_suggestions_are_grouped_by_supplier_with_their_terms() -> None:
    items, demand, suppliers = _catalogue()
    summary, lines = suggestions_by_supplier(plan_replenishment(items, demand, suppliers), suppliers)
    assert summary["supplier_id"].tolist() == ["(unassigned)", "acme", "bolt"]
    acme = summary.set_index("supplier_id").loc["acme"]
    assert acme["lines"] == 1 and acme["currency"] == "EUR" and acme["contact"] == "po@acme.example"
    assert acme["value"] == pytest.approx(lines.loc[lines["sku"] == "low", "order_qty"].iloc[0] * 4.0)
    assert set(lines["sku"]) == {"low", "new", "orphan"}
