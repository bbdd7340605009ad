"""Model choice is made on backtest (out-of-sample) errors, judged on a window it never saw; conformal widths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.forecasting.models import ForecastConfig
from domain.forecasting.pipeline import evaluate
from domain.forecasting.selection import conformal_halfwidths, select_models

CUTS = pd.to_datetime(["2024-01-07", "2024-01-14", "2024-01-21"])


def _backtest(
    errors: dict[str, list[float]], y: float = 10.0, ids: tuple[str, ...] = ("s1",)
) -> pd.DataFrame:
    """One row per series x window (horizon 1); model m's forecast is y + errors[m][window]."""
    rows = []
    for sid in ids:
        for w, cut in enumerate(CUTS):
            row = {"unique_id": sid, "ds": cut + pd.Timedelta(days=1), "cutoff": cut, "y": y}
            row |= {m: y + e[w] for m, e in errors.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def test_lowest_backtest_error_wins_and_ties_go_to_the_first_listed() -> None:
    bt = _backtest({"SeasonalNaive": [3, 3, 3], "Theta": [1, -1, 1], "AutoETS": [1, 1, -1]})
    assert select_models(bt, ["SeasonalNaive", "Theta", "AutoETS"]).to_dict() == {"s1": "Theta"}
    assert select_models(bt, ["SeasonalNaive", "AutoETS", "Theta"]).to_dict() == {"s1": "AutoETS"}


def test_intermittent_series_are_judged_by_squared_error_so_a_zero_forecast_does_not_win() -> None:
    # sells 6 units on one day in three: the all-zero forecast has the lowest MAE, the mean rate the lowest MSE
    y = np.array([0, 0, 6.0] * 4)
    bt = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": pd.date_range("2024-02-01", periods=12),
            "cutoff": CUTS[0],
            "y": y,
            "Naive": 0.0,
            "CrostonOptimized": 2.0,
        }
    )
    models = ["Naive", "CrostonOptimized"]
    assert select_models(bt, models, segments=pd.Series({"s": "smooth"}))["s"] == "Naive"
    assert select_models(bt, models, segments=pd.Series({"s": "intermittent"}))["s"] == "CrostonOptimized"


def test_segment_choice_pools_the_segment_and_needs_segments() -> None:
    bt = pd.concat(
        [
            _backtest({"A": [1, 1, 1], "B": [2, 2, 2]}, ids=("s1",)),
            _backtest({"A": [9, 9, 9], "B": [2, 2, 2]}, ids=("s2",)),
        ]
    )
    seg = pd.Series({"s1": "smooth", "s2": "smooth"})
    assert select_models(bt, ["A", "B"], mode="segment", segments=seg).to_dict() == {"s1": "B", "s2": "B"}
    assert select_models(bt, ["A", "B"], mode="series").to_dict() == {"s1": "A", "s2": "B"}
    with pytest.raises(ValueError):
        select_models(bt, ["A", "B"], mode="segment")


def test_evaluation_chooses_on_earlier_windows_and_scores_on_the_last() -> None:
    # Theta is best on the two windows the choice sees, AutoETS only on the last one
    bt = _backtest({"SeasonalNaive": [4, 4, 4], "Theta": [1, 1, 6], "AutoETS": [3, 3, 0]})
    cfg = ForecastConfig(freq="D", selection="series")
    ev = evaluate(
        bt, ["SeasonalNaive", "Theta", "AutoETS"], cfg, pd.Series({"s1": "smooth"}), pd.Series({"s1": 2.0})
    )
    assert ev.mix == {"Theta": 1}
    assert ev.selected.mae == pytest.approx(6.0)  # Theta's error on the unseen window, not AutoETS's 0
    assert ev.models["AutoETS"].mae == pytest.approx(0.0)
    assert ev.seasonal_naive.mae == pytest.approx(4.0)
    assert ev.improvement_vs_naive == pytest.approx(1 - 6 / 4)


def test_conformal_halfwidth_is_the_corrected_quantile_of_absolute_errors() -> None:
    errs = np.arange(1, 20, dtype=float)  # 19 residuals 1..19 of the chosen model
    bt = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": pd.date_range("2024-03-01", periods=19),
            "cutoff": CUTS[0],
            "y": 100.0,
            "M": 100.0 + errs * np.where(np.arange(19) % 2, 1, -1),
        }
    )
    hw = conformal_halfwidths(bt, pd.Series({"s": "M"}), [80, 95])
    # ceil((19 + 1) * 0.8) / 19 = 16/19 -> between the 16th and 17th smallest; 95 % -> the largest (19)
    assert 15.5 <= hw.loc["s", "q_80"] <= 17.0
    assert hw.loc["s", "q_95"] == pytest.approx(19.0)
