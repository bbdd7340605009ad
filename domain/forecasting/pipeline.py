"""One forecast run over a whole panel: profile, backtest, select, forecast, intervals, honest evaluation.

`run_forecast(panel, cfg)` -> `ForecastRun` with

- `forecasts`: unique_id, ds, model, yhat, lo_<level>, hi_<level> (the next `h` periods of every series);
- `selection`: one row per series (index unique_id): segment, n_obs, model, reason, and the chosen model's
  backtest mae / rmse / wape / mase (replenishment reads the rmse as the forecast's error per period);
- `backtest`: the wide rolling-origin frame (see `backtest.py`);
- `evaluation`: the selection judged out of sample - models chosen on every window but the last, all models and
  the chosen mix scored on the last window only, with interval coverage there (needs `n_windows >= 2`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domain.forecasting.backtest import backtest_cutoffs, cutoffs, run_backtest
from domain.forecasting.forecast import SHORT_HISTORY_MODEL, forecast_selected
from domain.forecasting.metrics import Scores, mase_scale, model_scores, scores
from domain.forecasting.models import BASELINE, ForecastConfig
from domain.forecasting.segments import demand_profile
from domain.forecasting.selection import add_intervals, chosen_forecast, conformal_halfwidths, select_models


@dataclass
class Evaluation:
    holdout_cutoff: pd.Timestamp
    models: dict[str, Scores]  # each on the series where it was a candidate (see `series_per_model`)
    series_per_model: dict[str, int]
    selected: Scores
    seasonal_naive: Scores
    mix: dict[str, int]  # model -> number of series that chose it (on the selection windows)
    coverage: dict[int, float]  # level -> share of holdout actuals inside the chosen model's interval

    @property
    def improvement_vs_naive(self) -> float:
        return (
            1.0 - self.selected.wape / self.seasonal_naive.wape if self.seasonal_naive.wape else float("nan")
        )


@dataclass
class ForecastRun:
    forecasts: pd.DataFrame
    selection: pd.DataFrame
    backtest: pd.DataFrame
    models: list[str]
    evaluation: Evaluation | None = None
    scale: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def evaluate(
    backtest: pd.DataFrame, models: list[str], cfg: ForecastConfig, segments: pd.Series, scale: pd.Series
) -> Evaluation:
    """Choose on all windows but the last, score everything on the last (the choice never saw it)."""
    cuts = cutoffs(backtest)
    if len(cuts) < 2:
        raise ValueError("evaluation needs n_windows >= 2 (one to choose on, one to judge on)")
    earlier, last = backtest[backtest["cutoff"] < cuts[-1]], backtest[backtest["cutoff"] == cuts[-1]]
    choice = select_models(earlier, models, mode=cfg.selection, segments=segments)
    y = last["y"].to_numpy(float)
    ids = last["unique_id"].to_numpy()
    yhat = chosen_forecast(last, choice)
    halfwidths = conformal_halfwidths(earlier, choice, cfg.levels)
    coverage = {}
    for level in cfg.levels:
        q = last["unique_id"].map(halfwidths[f"q_{level}"]).to_numpy(float)
        inside = (y >= np.maximum(yhat - q, 0.0) - 1e-9) & (y <= yhat + q + 1e-9)
        coverage[level] = float(inside[np.isfinite(q)].mean()) if np.isfinite(q).any() else float("nan")
    per_model = model_scores(last, models, scale)
    return Evaluation(
        holdout_cutoff=pd.Timestamp(cuts[-1]),
        models=per_model,
        series_per_model={m: int(last.loc[last[m].notna(), "unique_id"].nunique()) for m in models},
        selected=scores(y, yhat, ids, scale),
        seasonal_naive=per_model[BASELINE],
        mix={str(k): int(v) for k, v in choice.value_counts().items()},
        coverage=coverage,
    )


def run_forecast(
    panel: pd.DataFrame,
    cfg: ForecastConfig,
    *,
    future: pd.DataFrame | None = None,
    evaluate_holdout: bool = True,
) -> ForecastRun:
    """Forecast every series of `panel` (columns: see `frames.py`); `future` optionally plans prices/promos."""
    if panel.empty:
        raise ValueError("no sales to forecast")
    profile = demand_profile(panel)
    long_enough = profile.index[profile["n_obs"] >= cfg.min_history()]
    models = cfg.model_names(len(long_enough))
    selection = profile[["segment", "n_obs"]].copy()
    selection["model"] = SHORT_HISTORY_MODEL
    selection["reason"] = "history shorter than the backtest needs"
    backtest = pd.DataFrame()
    evaluation = None
    halfwidths = pd.DataFrame(columns=[f"q_{lv}" for lv in cfg.levels])
    scale = pd.Series(dtype=float)
    if len(long_enough):
        bt_panel = panel[panel["unique_id"].isin(long_enough)]
        # candidate models by the demand pattern seen before the first cutoff (the windows stay unseen)
        first_cut = backtest_cutoffs(bt_panel, cfg)[0]
        early_segments = demand_profile(bt_panel[bt_panel["ds"] <= first_cut])["segment"]
        backtest = run_backtest(bt_panel, models, cfg, segments=early_segments)
        models = [m for m in models if backtest[m].notna().any()]
        scale = mase_scale(bt_panel, before=first_cut, season_length=cfg.season_length)
        choice = select_models(backtest, models, mode=cfg.selection, segments=early_segments)
        selection.loc[choice.index, "model"] = choice
        selection.loc[choice.index, "reason"] = f"lowest backtest error ({cfg.selection})"
        chosen = chosen_forecast(backtest, choice)
        resid = backtest["y"] - chosen
        err = (
            pd.DataFrame(
                {"unique_id": backtest["unique_id"], "e": np.abs(resid), "e2": resid**2, "y": backtest["y"]}
            )
            .groupby("unique_id")[["e", "e2", "y"]]
            .agg("sum")
        )
        counts = backtest.groupby("unique_id").size()
        selection.loc[err.index, "backtest_mae"] = err["e"] / counts
        selection.loc[err.index, "backtest_rmse"] = np.sqrt(err["e2"] / counts)
        selection.loc[err.index, "backtest_wape"] = err["e"] / err["y"].where(err["y"] > 0)
        selection.loc[err.index, "backtest_mase"] = (err["e"] / counts) / scale.reindex(err.index)
        halfwidths = conformal_halfwidths(backtest, choice, cfg.levels)
        if evaluate_holdout and cfg.n_windows >= 2:
            evaluation = evaluate(backtest, models, cfg, early_segments, scale)
    forecasts = forecast_selected(panel, selection["model"], cfg, future=future)
    forecasts = add_intervals(forecasts, halfwidths, cfg.levels)
    cols = ["unique_id", "ds", "model", "yhat"] + [f"{b}_{lv}" for lv in cfg.levels for b in ("lo", "hi")]
    selection.index.name = "unique_id"
    return ForecastRun(forecasts[cols], selection, backtest, models, evaluation, scale)
