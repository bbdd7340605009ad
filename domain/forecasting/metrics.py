"""Forecast error measures, computed over all series at once.

- MAE  = mean |y - yhat| over every (series, period) of the evaluated windows.
- WAPE = sum |y - yhat| / sum |y|: volume-weighted, defined on intermittent series (unlike MAPE).
- MASE = per series, mean |y - yhat| divided by the in-sample MAE of the seasonal naive forecast on the
  training data before the first backtest cutoff (Hyndman & Koehler, 2006); reported as the mean over series
  with a non-zero scale. MASE < 1: better than seasonal naive was in sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Scores:
    mae: float
    wape: float
    mase: float

    def as_dict(self, digits: int = 4) -> dict[str, float]:
        return {k: round(v, digits) if np.isfinite(v) else float("nan") for k, v in asdict(self).items()}


def mase_scale(panel: pd.DataFrame, *, before: pd.Timestamp, season_length: int) -> pd.Series:
    """Per series (index unique_id): in-sample MAE of the seasonal naive forecast on periods up to `before`.

    Series shorter than a season + 1 in that span fall back to the naive-1 scale; a constant series gets NaN.
    """
    train = panel.loc[panel["ds"] <= before, ["unique_id", "y"]]
    g = train.groupby("unique_id", sort=True)["y"]
    seasonal = (train["y"] - g.shift(season_length)).abs().groupby(train["unique_id"]).mean()
    naive = (train["y"] - g.shift(1)).abs().groupby(train["unique_id"]).mean()
    scale = seasonal.fillna(naive)
    return scale.where(scale > 0)


def scores(y: np.ndarray, yhat: np.ndarray, ids: np.ndarray, scale: pd.Series) -> Scores:
    """MAE / WAPE / MASE of forecasts `yhat` for actuals `y` of series `ids` (rows with NaN forecasts ignored)."""
    ok = np.isfinite(yhat)
    err = np.abs(y[ok] - yhat[ok])
    if not err.size:
        return Scores(float("nan"), float("nan"), float("nan"))
    total = float(np.abs(y[ok]).sum())
    per_series = pd.Series(err).groupby(ids[ok]).mean()
    ratio = per_series / scale.reindex(per_series.index)
    ratio = ratio[np.isfinite(ratio)]
    return Scores(
        mae=float(err.mean()),
        wape=float(err.sum() / total) if total > 0 else float("nan"),
        mase=float(ratio.mean()) if len(ratio) else float("nan"),
    )


def model_scores(backtest: pd.DataFrame, models: Sequence[str], scale: pd.Series) -> dict[str, Scores]:
    y = backtest["y"].to_numpy(float)
    ids = backtest["unique_id"].to_numpy()
    return {m: scores(y, backtest[m].to_numpy(float), ids, scale) for m in models}


def series_errors(backtest: pd.DataFrame, models: Sequence[str], *, squared: bool = False) -> pd.DataFrame:
    """Mean absolute (or squared) error per series (rows) and model (columns); no forecasts -> +inf."""
    diff = backtest[list(models)].sub(backtest["y"], axis=0)
    err = diff.pow(2) if squared else diff.abs()
    err["unique_id"] = backtest["unique_id"].to_numpy()
    return err.groupby("unique_id", sort=True).mean().fillna(np.inf)
