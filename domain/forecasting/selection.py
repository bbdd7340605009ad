"""Model choice by backtest error, and prediction intervals from backtest residuals.

Selection never looks at in-sample fit: per series (or per demand segment) the model with the lowest
out-of-sample error over the backtest windows given wins; ties go to the model listed first (the simpler one).
The error is MAE for smooth and erratic demand, and MSE for intermittent and lumpy demand: on a series that sells
on one day in six, a forecast of zero has the lowest MAE (the median of each day is 0) and would order nothing;
MSE is minimised by the mean rate, which is what lead-time demand needs (Kolassa, "Evaluating predictive count
data distributions in retail sales forecasting", IJF 32, 2016).

Intervals are split-conformal: for each series the `level` quantile of the absolute out-of-sample errors of its
chosen model (all windows, all horizons, finite-sample corrected) is the half-width around the point forecast.
Model-free, so every model - Croston's included, which has no native interval - gets one the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from domain.forecasting.metrics import series_errors
from domain.forecasting.segments import INTERMITTENT_SEGMENTS


def select_models(
    backtest: pd.DataFrame,
    models: Sequence[str],
    *,
    mode: Literal["series", "segment"] = "series",
    segments: pd.Series | None = None,
) -> pd.Series:
    """unique_id -> chosen model name, from the windows present in `backtest`."""
    absolute = series_errors(backtest, models)
    seg = (
        (segments if segments is not None else pd.Series(dtype=object))
        .reindex(absolute.index)
        .fillna("unknown")
    )
    use_mse = seg.isin(INTERMITTENT_SEGMENTS).to_numpy()
    errors = absolute
    if use_mse.any():
        squared = series_errors(backtest, models, squared=True)
        errors = pd.DataFrame(
            np.where(use_mse[:, None], squared.to_numpy(), absolute.to_numpy()),
            index=absolute.index,
            columns=absolute.columns,
        )
    if mode == "series":
        pick = np.argmin(errors.to_numpy(), axis=1)  # first minimum: order of `models` breaks ties
        return pd.Series(np.asarray(models)[pick], index=errors.index, name="model")
    if segments is None:
        raise ValueError("segment selection needs the series' segments")
    # per segment: the summed per-series error (series have the same number of backtest periods)
    seg_err = errors.replace(np.inf, np.nan).groupby(seg).sum(min_count=1).fillna(np.inf)
    best = pd.Series(np.asarray(models)[np.argmin(seg_err.to_numpy(), axis=1)], index=seg_err.index)
    return pd.Series(seg.map(best).to_numpy(), index=errors.index, name="model")


def chosen_forecast(backtest: pd.DataFrame, choice: pd.Series) -> np.ndarray:
    """Per backtest row, the forecast of the model chosen for that row's series (NaN if none was chosen)."""
    models = sorted(set(choice.dropna()))
    if not models:
        return np.full(len(backtest), np.nan)
    col = backtest["unique_id"].map(choice).map({m: i for i, m in enumerate(models)})
    values = backtest[models].to_numpy(float)
    idx = col.fillna(-1).to_numpy(int)
    out = np.take_along_axis(values, np.clip(idx, 0, None)[:, None], axis=1)[:, 0]
    return np.where(idx >= 0, out, np.nan)


def conformal_halfwidths(backtest: pd.DataFrame, choice: pd.Series, levels: Sequence[int]) -> pd.DataFrame:
    """Per series (index unique_id): columns `q_<level>`, the interval half-width of its chosen model."""
    err = np.abs(backtest["y"].to_numpy(float) - chosen_forecast(backtest, choice))
    frame = pd.DataFrame({"unique_id": backtest["unique_id"].to_numpy(), "err": err}).dropna()
    g = frame.groupby("unique_id", sort=True)["err"]
    n = g.size()
    out = {}
    for level in levels:
        # finite-sample corrected rank: ceil((n + 1) * level) / n, capped at the largest error
        q = np.minimum(1.0, np.ceil((n.to_numpy() + 1) * level / 100.0) / n.to_numpy())
        q_common = float(np.median(q)) if len(q) else level / 100.0  # n is the same for every full series
        out[f"q_{level}"] = g.quantile(q_common)
    return pd.DataFrame(out)


def add_intervals(forecasts: pd.DataFrame, halfwidths: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    """`lo_<level>` / `hi_<level>` around `yhat` (never below zero) for series with backtest residuals."""
    out = forecasts.copy()
    hw = halfwidths.reindex(out["unique_id"].to_numpy())
    for level in levels:
        q = hw[f"q_{level}"].to_numpy(float)
        if f"lo_{level}" in out:  # model-native interval already there (short-history fallback)
            q_ok = np.isfinite(q)
            out[f"lo_{level}"] = np.where(q_ok, np.maximum(out["yhat"] - q, 0.0), out[f"lo_{level}"])
            out[f"hi_{level}"] = np.where(q_ok, out["yhat"] + q, out[f"hi_{level}"])
        else:
            out[f"lo_{level}"] = np.maximum(out["yhat"].to_numpy() - q, 0.0)
            out[f"hi_{level}"] = out["yhat"].to_numpy() + q
    return out
