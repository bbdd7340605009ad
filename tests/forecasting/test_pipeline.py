"""The whole pipeline on generated series with known structure: it must recover that structure.

Small on purpose (32 series x 1 year daily, few trees): seconds, not minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.forecasting.forecast import SHORT_HISTORY_MODEL, forecast_selected
from domain.forecasting.frames import prepare_panel
from domain.forecasting.models import INTERMITTENT_MODELS, ForecastConfig, GbmSettings
from domain.forecasting.pipeline import ForecastRun, run_forecast
from domain.forecasting.selection import chosen_forecast
from domain.forecasting.synthetic import generate_sales

SMALL_GBM = GbmSettings(n_estimators=60, num_leaves=15)


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return generate_sales(32, 364, seed=3)


@pytest.fixture(scope="module")
def kinds(sales: pd.DataFrame) -> pd.Series:
    return sales.groupby("sku")["kind"].first()


@pytest.fixture(scope="module")
def panel(sales: pd.DataFrame) -> pd.DataFrame:
    return prepare_panel(sales, freq="D", price_col="unit_price", promo_col="promo")


@pytest.fixture(scope="module")
def run(panel: pd.DataFrame) -> ForecastRun:
    cfg = ForecastConfig(freq="D", horizon=14, n_windows=3, selection="series", gbm=SMALL_GBM)
    return run_forecast(panel, cfg)


def test_every_series_gets_h_forecasts_with_ordered_nonnegative_intervals(
    run: ForecastRun, panel: pd.DataFrame
) -> None:
    fc = run.forecasts
    assert fc.groupby("unique_id").size().eq(14).all()
    assert set(fc["unique_id"]) == set(panel["unique_id"])
    assert (fc["ds"] > panel["ds"].max()).all()
    assert (fc["lo_95"] >= 0).all()
    assert (fc["lo_95"] <= fc["lo_80"] + 1e-9).all() and (fc["lo_80"] <= fc["yhat"] + 1e-9).all()
    assert (fc["yhat"] <= fc["hi_80"] + 1e-9).all() and (fc["hi_80"] <= fc["hi_95"] + 1e-9).all()
    # the model that forecasts a series is the one chosen for it
    assert (fc.groupby("unique_id")["model"].first() == run.selection["model"]).all()


def test_intermittent_series_are_recognised_and_get_intermittent_models(
    run: ForecastRun, kinds: pd.Series
) -> None:
    sel = run.selection.join(kinds.rename("kind"))
    intermittent = sel[sel["kind"] == "intermittent"]
    assert intermittent["segment"].isin(["intermittent", "lumpy"]).all()
    assert intermittent["model"].isin(INTERMITTENT_MODELS).mean() >= 0.75
    # and no smooth series is handed a Croston-type model
    assert not sel.loc[sel["kind"] == "seasonal", "model"].isin(INTERMITTENT_MODELS).any()


def test_seasonal_series_beat_naive_one_out_of_sample(run: ForecastRun, kinds: pd.Series) -> None:
    bt = run.backtest
    last = bt[bt["cutoff"] == bt["cutoff"].max()]
    seasonal = last["unique_id"].map(kinds).eq("seasonal").to_numpy()
    chosen = chosen_forecast(last, run.selection["model"])
    y = last["y"].to_numpy()
    wape_chosen = np.abs(y - chosen)[seasonal].sum() / y[seasonal].sum()
    wape_naive1 = np.abs(y - last["Naive"].to_numpy())[seasonal].sum() / y[seasonal].sum()
    assert wape_chosen < 0.8 * wape_naive1


def test_selection_beats_seasonal_naive_on_the_unseen_window_with_calibrated_intervals(
    run: ForecastRun,
) -> None:
    ev = run.evaluation
    assert ev is not None
    assert ev.improvement_vs_naive > 0.10
    assert ev.selected.mase < ev.seasonal_naive.mase
    assert 0.65 <= ev.coverage[80] <= 0.95
    assert ev.coverage[95] >= ev.coverage[80]
    assert sum(ev.mix.values()) == 32


def test_trend_series_forecasts_keep_rising(run: ForecastRun, panel: pd.DataFrame, kinds: pd.Series) -> None:
    trend_ids = kinds.index[kinds == "trend"]
    recent = panel[panel["unique_id"].isin(trend_ids)].groupby("unique_id").tail(56)
    first_half = recent.groupby("unique_id").head(28).groupby("unique_id")["y"].mean()
    ahead = run.forecasts[run.forecasts["unique_id"].isin(trend_ids)].groupby("unique_id")["yhat"].mean()
    assert (ahead > first_half.reindex(ahead.index)).mean() >= 0.75


def test_the_global_model_answers_a_planned_price_rise_with_lower_demand(
    panel: pd.DataFrame, kinds: pd.Series
) -> None:
    cfg = ForecastConfig(freq="D", horizon=14, gbm=SMALL_GBM)
    ids = kinds.index[kinds == "price"]
    choice = pd.Series("LightGBM", index=ids)
    last_price = panel.groupby("unique_id")["price"].last()
    days = pd.date_range(panel["ds"].max() + pd.Timedelta(days=1), periods=14)
    plan = pd.DataFrame([(i, d) for i in ids for d in days], columns=["unique_id", "ds"])
    same = forecast_selected(panel, choice, cfg, future=plan.assign(price=plan["unique_id"].map(last_price)))
    dearer = forecast_selected(
        panel, choice, cfg, future=plan.assign(price=plan["unique_id"].map(last_price) * 1.3)
    )
    assert dearer["yhat"].sum() < 0.9 * same["yhat"].sum()


def test_series_too_short_for_the_backtest_get_the_average_with_an_interval() -> None:
    sales = generate_sales(6, 200, seed=5, kinds=("seasonal",))
    sales = sales[
        ~((sales["sku"] == "SKU-0") & (sales["date"] < sales["date"].max() - pd.Timedelta(days=20)))
    ]
    panel = prepare_panel(sales, freq="D")
    run = run_forecast(panel, ForecastConfig(freq="D", horizon=14, models=("SeasonalNaive", "SeasonalES")))
    assert run.selection.loc["SKU-0", "model"] == SHORT_HISTORY_MODEL
    fc = run.forecasts[run.forecasts["unique_id"] == "SKU-0"]
    assert len(fc) == 14 and (fc["hi_80"] > fc["yhat"]).all() and (fc["lo_80"] <= fc["yhat"]).all()
    assert run.selection.drop(index="SKU-0")["model"].isin(["SeasonalNaive", "SeasonalES"]).all()
