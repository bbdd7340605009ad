"""Analytics on small tables whose answers are worked out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from domain.analytics.aging import BUCKETS, aging_buckets, lot_aging
from domain.analytics.customers import pseudonymise, rfm, segment_customers
from domain.analytics.performance import channel_comparison, sku_performance, top_and_worst
from domain.analytics.projection import revenue_projection
from domain.analytics.stock import sell_through, stockout_days

TODAY = date(2026, 6, 30)


def test_aging_buckets_and_fifo_value_at_risk() -> None:
    lots = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "C"],
            "received_on": [
                "2026-06-20",
                "2026-01-01",
                "2026-04-15",
                "2025-11-01",
            ],  # ages 10, 180, 76, 241 days
            "quantity": [100, 50, 40, 10],
            "unit_cost": [2.0, 2.0, 5.0, 1.0],
        }
    )
    velocity = pd.Series({"A": 1.0, "B": 0.5})  # C does not sell
    lt = lot_aging(lots, velocity, today=TODAY).set_index(["sku", "age_days"])
    # A's old lot (180 days) is already at the risk age: all 50 at risk. Its new lot (10 days) sells behind those
    # 50 units: in 170 days 170 sell, 50 of them from the old lot, 120 >= 100 -> none of the new lot at risk
    assert lt.loc[("A", 180), "units_at_risk"] == 50
    assert lt.loc[("A", 10), "units_at_risk"] == 0
    # B: 104 days left x 0.5 a day = 52 >= 40 -> safe; C: no sales, all at risk
    assert lt.loc[("B", 76), "units_at_risk"] == 0
    assert lt.loc[("C", 241), "units_at_risk"] == 10
    b = aging_buckets(lots, velocity, today=TODAY).set_index("bucket")
    assert list(b.index) == list(BUCKETS)
    assert b.loc["0-30", "value"] == 200 and b.loc["61-90", "value"] == 200
    assert b.loc["91-180", "value_at_risk"] == 100 and b.loc["180+", "value_at_risk"] == 10
    assert b.loc["31-60", "units"] == 0
    assert b["share_of_value"].sum() == pytest.approx(1.0)


def _sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-06-01"] * 5 + ["2026-06-02"] * 2),
            "sku": ["A", "B", "C", "A", "D", "B", "A"],
            "quantity": [10, 1, 4, 5, 2, -1, 3],
            "unit_price": [2.0, 100.0, 10.0, 2.0, 1.0, 100.0, 2.0],
            "unit_cost": [1.0, 90.0, 4.0, 1.0, np.nan, 90.0, 1.0],
            "channel": ["amazon", "ebay", "amazon", "shopify", "ebay", "ebay", "amazon"],
            "order_id": ["o1", "o2", "o1", "o3", "o4", "o5", "o6"],
        }
    )


def test_performance_top_and_worst() -> None:
    perf = sku_performance(_sales(), days=30, catalog=pd.Index(["A", "B", "C", "D", "E"]))
    assert perf.loc["A", "revenue"] == 36 and perf.loc["A", "margin"] == 18
    assert perf.loc["B", "units"] == 0 and perf.loc["B", "revenue"] == 0  # sold one, one came back
    assert np.isnan(perf.loc["D", "margin"])  # no cost known
    assert perf.loc["E", "velocity"] == 0 and perf.loc["A", "velocity"] == pytest.approx(18 / 30)
    tw = top_and_worst(perf, n=2)
    assert tw["revenue"]["top"]["sku"].tolist() == ["C", "A"]
    assert tw["revenue"]["worst"]["sku"].tolist() == ["B", "E"]
    assert tw["margin"]["top"]["sku"].tolist() == ["C", "A"] and "D" not in set(tw["margin"]["worst"]["sku"])
    assert tw["velocity"]["top"]["sku"].tolist() == ["A", "C"]


def test_channel_comparison() -> None:
    ch = channel_comparison(_sales()).set_index("channel")
    assert ch.loc["amazon", "revenue"] == 20 + 40 + 6 and ch.loc["amazon", "orders"] == 2
    assert ch.loc["ebay", "units"] == 2 and ch.loc["ebay", "revenue"] == 2
    assert ch["revenue_share"].sum() == pytest.approx(1.0)
    assert ch.loc["amazon", "margin_rate"] == pytest.approx((10 + 24 + 3) / 66)


def test_revenue_projection_interval_adds_variances_not_bounds() -> None:
    days = pd.date_range("2026-07-01", periods=30)
    z80 = 1.2815515655446004
    fc = pd.DataFrame({"unique_id": np.repeat(["A", "B"], 30), "ds": list(days) * 2, "yhat": 10.0})
    fc["lo_80"], fc["hi_80"] = 10.0 - z80 * 2, 10.0 + z80 * 2  # sd 2 units a day
    proj = revenue_projection(fc, pd.Series({"A": 3.0, "B": 1.0}), days=30, level=80)
    assert proj.expected == pytest.approx(30 * (30 + 10))
    sd = np.sqrt(30 * ((2 * 3.0) ** 2 + (2 * 1.0) ** 2))
    assert proj.high - proj.expected == pytest.approx(z80 * sd)
    assert proj.low == pytest.approx(proj.expected - z80 * sd)
    assert len(proj.daily) == 30 and proj.daily["expected"].sum() == pytest.approx(proj.expected)
    with pytest.raises(ValueError, match="horizon"):
        revenue_projection(fc[fc["ds"] < days[20]], pd.Series({"A": 1.0}), days=30)


def test_sell_through_and_stockout_days() -> None:
    st = sell_through(
        pd.Series({"A": 30.0, "B": 5.0}), pd.Series({"A": 20.0, "B": 0.0, "C": 7.0}), pd.Series({"A": 20.0})
    )
    assert st.to_dict() == pytest.approx({"A": 0.75, "B": np.nan, "C": 0.0}, nan_ok=True)
    levels = pd.DataFrame(
        {
            "sku": ["A"] * 4 + ["B"] * 2,
            "date": list(pd.date_range("2026-06-01", periods=4)) * 1
            + list(pd.date_range("2026-06-01", periods=2)),
            "on_hand": [3, 0, 0, 5, 1, 2],
        }
    )
    so = stockout_days(levels)
    assert so.loc["A", "stockout_days"] == 2 and so.loc["A", "stockout_share"] == 0.5
    assert so.loc["B", "stockout_days"] == 0


def test_pseudonyms_are_keyed_stable_and_not_the_id() -> None:
    ids = pd.Series(["alice@example.com", "bob", "alice@example.com", None])
    a = pseudonymise(ids, b"k" * 32)
    assert a[0] == a[2] and a[0] != a[1] and pd.isna(a[3])
    assert "alice" not in a[0] and len(a[0]) == 32
    assert pseudonymise(ids, b"other-key-0123456789")[0] != a[0]
    with pytest.raises(ValueError):
        pseudonymise(ids, b"short")


def test_rfm_scores_and_kmeans_segments_find_the_planted_groups() -> None:
    rng = np.random.default_rng(0)
    rows = []
    # 40 loyal big spenders (recent, frequent), 60 one-off small buyers from long ago
    for i in range(40):
        for j in range(8):
            rows.append(
                (f"loyal{i}", f"L{i}-{j}", TODAY.toordinal() - int(rng.integers(1, 30)) - 30 * j, 200.0)
            )
    for i in range(60):
        rows.append((f"once{i}", f"O{i}", TODAY.toordinal() - int(rng.integers(200, 400)), 15.0))
    orders = pd.DataFrame(rows, columns=["buyer", "order_id", "ord", "revenue"])
    orders["date"] = orders["ord"].map(date.fromordinal)
    table = rfm(orders, today=TODAY)
    assert table.loc["loyal0", "frequency"] == 8 and table.loc["once0", "frequency"] == 1
    assert (table.filter(like="_score", axis=1).stack().between(1, 5)).all()
    assert table.loc[table.index.str.startswith("loyal"), "m_score"].min() == 5
    seg, summary = segment_customers(table, k=2, seed=0)
    assert set(seg.loc[seg.index.str.startswith("loyal"), "segment"]) == {0}  # the most valuable segment
    assert set(seg.loc[seg.index.str.startswith("once"), "segment"]) == {1}
    assert summary.set_index("segment").loc[0, "buyers"] == 40
