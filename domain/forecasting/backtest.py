"""Rolling-origin backtest of every model over every series at once.

`run_backtest` returns one *wide* frame, a row per series x cutoff x forecast period:

| column       | meaning                                                       |
|--------------|---------------------------------------------------------------|
| `unique_id`  | series key                                                    |
| `ds`         | forecast period                                               |
| `cutoff`     | last period of the training data for that window              |
| `y`          | the realised value                                            |
| one per model| that model's point forecast made at `cutoff`                  |

Cutoffs are `step` periods apart, the last one `h` periods before the panel's end. No window sees data after
its cutoff. The fast statistical models are refitted at every cutoff; the slow ones (AutoETS, Theta) and the
global model are fitted at the first cutoff and then applied at the later ones with the history up to each
(their parameters stay, their state and lags move on), as a weekly retrain with daily forecasts would.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from domain.forecasting.models import (
    GLOBAL_MODELS,
    SLOW_MODELS,
    ForecastConfig,
    candidates,
    gbm_exogenous,
    gbm_forecaster,
    stat_models,
    with_price_features,
)
from domain.forecasting.segments import INTERMITTENT_SEGMENTS

KEY = ["unique_id", "ds", "cutoff"]


def _stat_cv(
    panel: pd.DataFrame, names: Sequence[str], cfg: ForecastConfig, *, input_size: int | None, refit: bool
) -> pd.DataFrame:
    from statsforecast import StatsForecast

    models = stat_models(names, cfg)
    if not models:
        return pd.DataFrame(columns=[*KEY, "y"])
    sf = StatsForecast(models=models, freq=cfg.pandas_freq, n_jobs=cfg.n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-zero windows make some models divide by zero
        cv = sf.cross_validation(
            h=cfg.h,
            df=panel[["unique_id", "ds", "y"]],
            n_windows=cfg.n_windows,
            step_size=cfg.step_size,
            input_size=input_size,
            refit=refit,
        )
    return cv.reset_index(drop=True) if "unique_id" in cv.columns else cv.reset_index()


def backtest_cutoffs(panel: pd.DataFrame, cfg: ForecastConfig) -> list[pd.Timestamp]:
    """The cutoffs statsforecast uses too: the last one `h` periods before the end, `step` apart."""
    last = pd.Timestamp(panel["ds"].max())
    period = pd.tseries.frequencies.to_offset(cfg.pandas_freq)
    return [last - (cfg.h + cfg.step_size * (cfg.n_windows - 1 - i)) * period for i in range(cfg.n_windows)]


def gbm_training_rows(feats: pd.DataFrame, cfg: ForecastConfig) -> pd.DataFrame:
    """The rows the global model trains on: the last `train_periods` of each series, and at most
    `max_train_rows` rows (a seeded random subset of whole series beyond that)."""
    g = cfg.gbm
    periods = g.train_periods.get(cfg.freq)
    if periods:
        start = feats["ds"].max() - (periods - 1) * pd.tseries.frequencies.to_offset(cfg.pandas_freq)
        feats = feats[feats["ds"] >= start]
    if len(feats) > g.max_train_rows:
        ids = feats["unique_id"].unique()
        rng = np.random.default_rng(g.seed)
        keep = rng.choice(ids, size=max(1, int(len(ids) * g.max_train_rows / len(feats))), replace=False)
        feats = feats[feats["unique_id"].isin(keep)]
    return feats


def gbm_lookback(cfg: ForecastConfig) -> int:
    """Periods of history the global model's features need at prediction time (longest lag + window, padded)."""
    # daily: lag 28 + a 28-day mean on lag 1, lag 7 + 4 weeks; weekly: lag 52 + the horizon
    return 45 if cfg.freq == "D" else 60


def _gbm_cv(panel: pd.DataFrame, cfg: ForecastConfig) -> pd.DataFrame:
    feats = with_price_features(panel)
    exog = gbm_exogenous(feats)
    cols = ["unique_id", "ds", "y", *exog]
    feats = feats[cols]
    period = pd.tseries.frequencies.to_offset(cfg.pandas_freq)
    parts = []
    mlf = None
    for cutoff in backtest_cutoffs(panel, cfg):  # a loop over the few cutoffs, not over series
        if mlf is None or cfg.gbm.refit:
            mlf = gbm_forecaster(cfg).fit(
                gbm_training_rows(feats[feats["ds"] <= cutoff], cfg), static_features=[], dropna=False
            )
        history = feats[(feats["ds"] <= cutoff) & (feats["ds"] > cutoff - gbm_lookback(cfg) * period)]
        future = feats[(feats["ds"] > cutoff) & (feats["ds"] <= cutoff + cfg.h * period)]
        pred = mlf.predict(cfg.h, new_df=history, X_df=future[["unique_id", "ds", *exog]] if exog else None)
        pred["cutoff"] = cutoff
        parts.append(pred)
    return pd.concat(parts, ignore_index=True)[[*KEY, "LightGBM"]]


def _stat_block(panel: pd.DataFrame, names: Sequence[str], cfg: ForecastConfig) -> pd.DataFrame:
    fast = [n for n in names if n not in SLOW_MODELS and n not in GLOBAL_MODELS]
    slow = [n for n in names if n in SLOW_MODELS]
    out = _stat_cv(panel, fast, cfg, input_size=None, refit=True)
    if slow:
        default_input = 16 * 7 if cfg.freq == "D" else None
        cv = _stat_cv(panel, slow, cfg, input_size=cfg.slow_input_size or default_input, refit=False)
        out = out.merge(cv.drop(columns="y"), on=KEY, how="left")
    return out


def run_backtest(
    panel: pd.DataFrame, names: Sequence[str], cfg: ForecastConfig, *, segments: pd.Series | None = None
) -> pd.DataFrame:
    """Wide backtest frame (see module doc) for models `names` on every series of `panel`.

    With `segments` (unique_id -> demand segment), each local model runs only where it is a candidate
    (`models.candidates`): Croston-type models on intermittent / lumpy series, the others on smooth / erratic
    ones; seasonal naive and the global model run everywhere. A model's column is NaN where it did not run.
    Every series must be at least `cfg.min_history()` periods long (the pipeline routes shorter ones elsewhere).
    """
    local = [n for n in names if n not in GLOBAL_MODELS]
    if segments is None:
        out = _stat_block(panel, local, cfg)
    else:
        seg = panel["unique_id"].map(segments).fillna("smooth")
        parts = []
        for intermittent in (False, True):  # two blocks, not a loop over series
            mask = seg.isin(INTERMITTENT_SEGMENTS).to_numpy() == intermittent
            if mask.any():
                parts.append(_stat_block(panel[mask], candidates(local, intermittent=intermittent), cfg))
        out = pd.concat(parts, ignore_index=True)
    if "LightGBM" in names:
        out = out.merge(_gbm_cv(panel, cfg), on=KEY, how="left")
    out["unique_id"] = out["unique_id"].astype(str)
    model_cols = list(names)
    for n in model_cols:
        if n not in out.columns:  # a candidate for no series of this panel
            out[n] = np.nan
    out[model_cols] = out[model_cols].astype(float).clip(lower=0.0)  # demand is never negative
    return out[[*KEY, "y", *model_cols]].sort_values(KEY, kind="stable").reset_index(drop=True)


def cutoffs(backtest: pd.DataFrame) -> np.ndarray:
    return np.sort(backtest["cutoff"].unique())
