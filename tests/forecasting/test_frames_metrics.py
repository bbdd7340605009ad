"""Panel preparation, demand segments and the error measures, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.forecasting.frames import prepare_panel
from domain.forecasting.metrics import mase_scale, scores
from domain.forecasting.segments import demand_profile


def test_invoice_lines_are_aggregated_per_day_net_of_returns_and_gaps_are_zero_sales() -> None:
    sales = pd.DataFrame(
        {
            "InvoiceDate": [
                "2024-03-01 09:10",
                "2024-03-01 17:45",
                "2024-03-01 18:00",
                "2024-03-04 08:00",
                "2024-03-02 10:00",
                "2024-03-03 11:00",
            ],
            "StockCode": ["A", "A", "A", "A", "B", "B"],
            "Quantity": [3, 5, -2, 1, 4, -9],
            "UnitPrice": [2.0, 4.0, 4.0, 3.0, 1.0, 1.0],
        }
    )
    panel = prepare_panel(
        sales,
        freq="D",
        date_col="InvoiceDate",
        sku_col="StockCode",
        qty_col="Quantity",
        price_col="UnitPrice",
    )
    a = panel[panel["unique_id"] == "A"].set_index("ds")
    assert list(a.index.strftime("%m-%d")) == ["03-01", "03-02", "03-03", "03-04"]
    assert a["y"].tolist() == [6.0, 0.0, 0.0, 1.0]  # 3 + 5 - 2 on the 1st; no rows on the 2nd and 3rd
    # quantity-weighted price of the positive sales (3 at 2.0, 5 at 4.0), carried over the empty days
    assert a["price"].tolist() == pytest.approx([3.25, 3.25, 3.25, 3.0])
    b = panel[panel["unique_id"] == "B"].set_index("ds")
    assert b["y"].tolist() == [4.0, 0.0, 0.0]  # starts at its first sale; a net return is not negative demand


def test_weekly_periods_start_on_monday() -> None:
    sales = pd.DataFrame(
        {
            "date": ["2024-01-03", "2024-01-07", "2024-01-08", "2024-01-21"],
            "sku": "X",
            "quantity": [1, 2, 4, 8],
        }
    )
    panel = prepare_panel(sales, freq="W")
    assert list(panel["ds"].dt.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert panel["y"].tolist() == [3.0, 4.0, 8.0]
    assert (panel["ds"].dt.dayofweek == 0).all()


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="qty"):
        prepare_panel(pd.DataFrame({"date": ["2024-01-01"], "sku": ["A"]}), freq="D", qty_col="qty")


def test_demand_segments_follow_syntetos_boylan_cutoffs() -> None:
    days = pd.date_range("2024-01-01", periods=12)
    panel = pd.concat(
        [
            pd.DataFrame({"unique_id": "smooth", "ds": days, "y": [5, 6, 5, 4, 5, 6, 5, 5, 4, 6, 5, 5.0]}),
            pd.DataFrame(
                {"unique_id": "intermittent", "ds": days, "y": [0, 0, 3, 0, 0, 4, 0, 0, 3, 0, 0, 3.0]}
            ),
            pd.DataFrame({"unique_id": "lumpy", "ds": days, "y": [0, 0, 1, 0, 0, 40, 0, 0, 2, 0, 0, 25.0]}),
            pd.DataFrame(
                {"unique_id": "erratic", "ds": days, "y": [1, 30, 2, 25, 1, 40, 2, 1, 35, 1, 2, 30.0]}
            ),
            pd.DataFrame({"unique_id": "never", "ds": days, "y": 0.0}),
        ]
    )
    seg = demand_profile(panel)["segment"]
    assert seg.to_dict() == {
        "erratic": "erratic",
        "intermittent": "intermittent",
        "lumpy": "lumpy",
        "never": "inactive",
        "smooth": "smooth",
    }


def test_mae_wape_mase_by_hand() -> None:
    # series a: history 1,2,3,4 -> naive-1 scale 1 (too short for the weekly season); errors 1 and 3
    panel = pd.DataFrame(
        {
            "unique_id": ["a"] * 4 + ["b"] * 4,
            "ds": list(pd.date_range("2024-01-01", periods=4)) * 2,
            "y": [1, 2, 3, 4, 2, 2, 6, 6.0],
        }
    )
    scale = mase_scale(panel, before=pd.Timestamp("2024-01-04"), season_length=7)
    assert scale.to_dict() == pytest.approx({"a": 1.0, "b": 4 / 3})
    y = np.array([5.0, 5.0, 2.0, 2.0])
    yhat = np.array([4.0, 8.0, 2.0, 4.0])
    ids = np.array(["a", "a", "b", "b"])
    s = scores(y, yhat, ids, scale)
    assert s.mae == pytest.approx(6 / 4)
    assert s.wape == pytest.approx(6 / 14)
    assert s.mase == pytest.approx(((4 / 2) / 1.0 + (2 / 2) / (4 / 3)) / 2)
