"""The forecasts themselves: each series by the model chosen for it, fitted on all of its history.

One fit per *model* over the series that chose it (a handful of calls, not one per SKU). Series too short for
the backtest get the historic average with its model-native interval (mean +/- z * sd).
"""

from __future__ import annotations

import warnings

import pandas as pd

from domain.forecasting.backtest import gbm_lookback, gbm_training_rows
from domain.forecasting.models import (
    ForecastConfig,
    gbm_exogenous,
    gbm_forecaster,
    stat_models,
    with_price_features,
)

SHORT_HISTORY_MODEL = "HistoricAverage"


def future_frame(panel: pd.DataFrame, cfg: ForecastConfig, future: pd.DataFrame | None) -> pd.DataFrame:
    """The next `h` periods of every series with their known-in-advance features.

    `future` (unique_id, ds, price?, promo?) gives planned prices / promotions; where it is silent the last
    observed price holds and there is no promotion.
    """
    period = pd.tseries.frequencies.to_offset(cfg.pandas_freq)
    last = panel["ds"].max()
    ids = panel["unique_id"].unique()
    steps = pd.DatetimeIndex([last + i * period for i in range(1, cfg.h + 1)])
    frame = pd.DataFrame({"unique_id": ids.repeat(len(steps)), "ds": list(steps) * len(ids)})
    if "price" in panel:
        last_price = panel.groupby("unique_id", sort=False)["price"].last()
        frame["price"] = frame["unique_id"].map(last_price).astype(float)
    if "promo" in panel:
        frame["promo"] = 0.0
    if future is not None and len(future):
        planned = future.set_index(["unique_id", "ds"])
        key = pd.MultiIndex.from_frame(frame[["unique_id", "ds"]])
        for col in ("price", "promo"):
            if col in frame and col in planned:
                frame[col] = planned[col].reindex(key).to_numpy(float)
                frame[col] = frame[col].fillna(frame["unique_id"].map(last_price) if col == "price" else 0.0)
    return frame


def _stat_forecasts(
    panel: pd.DataFrame, model: str, cfg: ForecastConfig, levels: list[int] | None
) -> pd.DataFrame:
    from statsforecast import StatsForecast

    if model == SHORT_HISTORY_MODEL:
        from statsforecast.models import HistoricAverage

        models = [HistoricAverage(alias=SHORT_HISTORY_MODEL)]
    else:
        models = stat_models([model], cfg)
    sf = StatsForecast(models=models, freq=cfg.pandas_freq, n_jobs=cfg.n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fc = sf.forecast(h=cfg.h, df=panel[["unique_id", "ds", "y"]], level=levels)
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    out = pd.DataFrame({"unique_id": fc["unique_id"].astype(str), "ds": fc["ds"], "yhat": fc[model]})
    for level in levels or []:
        out[f"lo_{level}"] = fc[f"{model}-lo-{level}"].clip(lower=0.0).to_numpy()
        out[f"hi_{level}"] = fc[f"{model}-hi-{level}"].to_numpy()
    return out


def _gbm_forecasts(
    panel: pd.DataFrame, ids: pd.Index, cfg: ForecastConfig, future: pd.DataFrame
) -> pd.DataFrame:
    feats = with_price_features(panel)
    exog = gbm_exogenous(feats)
    cols = ["unique_id", "ds", "y", *exog]
    mlf = gbm_forecaster(cfg).fit(gbm_training_rows(feats[cols], cfg), static_features=[], dropna=False)
    period = pd.tseries.frequencies.to_offset(cfg.pandas_freq)
    wanted = feats["unique_id"].isin(ids)
    history = feats.loc[wanted & (feats["ds"] > feats["ds"].max() - gbm_lookback(cfg) * period), cols]
    x_df = None
    if exog:
        fut = future[future["unique_id"].isin(ids)].copy()
        if "price" in exog:
            # relative price against the same per-series median the model saw in training
            med = panel.groupby("unique_id", sort=False)["price"].median()
            fut["rel_price"] = fut["price"] / fut["unique_id"].map(med)
        x_df = fut[["unique_id", "ds", *exog]]
    pred = mlf.predict(cfg.h, new_df=history, X_df=x_df)
    return pd.DataFrame(
        {
            "unique_id": pred["unique_id"].astype(str),
            "ds": pred["ds"],
            "yhat": pred["LightGBM"].clip(lower=0.0),
        }
    )


def forecast_selected(
    panel: pd.DataFrame, choice: pd.Series, cfg: ForecastConfig, *, future: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Rows unique_id, ds, model, yhat (+ lo_/hi_ columns for the short-history fallback) for every series in
    `choice` (unique_id -> model name)."""
    parts = []
    fut = future_frame(panel, cfg, future)
    for model, ids in choice.groupby(choice, sort=True).groups.items():  # one call per model
        part_panel = panel[panel["unique_id"].isin(ids)]
        if model == "LightGBM":
            fc = _gbm_forecasts(panel, pd.Index(ids), cfg, fut)
        else:
            levels = list(cfg.levels) if model == SHORT_HISTORY_MODEL else None
            fc = _stat_forecasts(part_panel, str(model), cfg, levels)
        fc["model"] = str(model)
        parts.append(fc)
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "model", "yhat"])
    out = pd.concat(parts, ignore_index=True)
    out["yhat"] = out["yhat"].astype(float).clip(lower=0.0)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
