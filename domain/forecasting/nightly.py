"""One batch of the nightly forecast: the panel up to yesterday, a retrain (backtest + choice) where it is due,
otherwise the stored choice refitted on the latest data, and the numbers the run keeps per SKU.

Pure: sales rows and the stored models come in, frames go out. Every series ends on the last complete day, so a
SKU that stopped selling is forecast from its trailing zeros, not from its last sale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from domain.forecasting.forecast import SHORT_HISTORY_MODEL, forecast_selected
from domain.forecasting.frames import prepare_panel
from domain.forecasting.models import BASELINE, ForecastConfig
from domain.forecasting.pipeline import run_forecast
from domain.forecasting.selection import add_intervals, chosen_forecast

LEVELS = (80, 95)


@dataclass
class BatchOutcome:
    forecasts: pd.DataFrame  # unique_id, ds, model, yhat, lo_80, hi_80, lo_95, hi_95
    models: pd.DataFrame  # index sku: the retrained SKUs' model, segment, n_obs, errors, q_80, q_95
    retrained: int
    short_history: int
    abs_err: float  # backtest sums over the retrained SKUs (selected model / seasonal naive / actuals)
    naive_abs_err: float
    abs_y: float
    points: int


def daily_panel(sales: pd.DataFrame, skus: list[str], *, today: date) -> pd.DataFrame:
    """Panel through yesterday for every SKU in `skus` (a zero row on the last day anchors each series' end)."""
    last = pd.Timestamp(today - timedelta(days=1))
    anchor = pd.DataFrame({"sku": skus, "date": last, "quantity": 0, "unit_price": np.nan})
    rows = pd.concat([sales[["sku", "date", "quantity", "unit_price"]], anchor], ignore_index=True)
    return prepare_panel(rows, freq="D", price_col="unit_price")


def forecast_batch(
    sales: pd.DataFrame, skus: list[str], stored: pd.DataFrame, *, today: date, horizon: int, retrain: bool
) -> BatchOutcome:
    """`stored` (index sku): model, q_80, q_95 from the last retrain. SKUs without one, or on the short-history
    fallback, are retrained whatever `retrain` says (they may have enough history by now)."""
    cfg = ForecastConfig(freq="D", horizon=horizon, levels=LEVELS)
    panel = daily_panel(sales, skus, today=today)
    if "price" in panel:
        panel["price"] = panel.groupby("unique_id")["price"].ffill().bfill()  # unsold days keep their price
        if panel["price"].isna().all():
            panel = panel.drop(columns="price")
        else:
            panel["price"] = panel["price"].fillna(panel["price"].median())
    known = stored["model"].reindex(skus)
    due = (
        pd.Index(skus)
        if retrain
        else pd.Index([s for s, m in known.items() if pd.isna(m) or m == SHORT_HISTORY_MODEL])
    )
    parts, models = [], pd.DataFrame()
    sums = {"abs_err": 0.0, "naive_abs_err": 0.0, "abs_y": 0.0, "points": 0}
    short = 0
    if len(due):
        run = run_forecast(panel[panel["unique_id"].isin(due)], cfg, evaluate_holdout=False)
        parts.append(run.forecasts)
        models = run.selection.rename(
            columns={
                "backtest_mae": "mae",
                "backtest_rmse": "rmse",
                "backtest_wape": "wape",
                "backtest_mase": "mase",
            }
        )
        short = int((models["model"] == SHORT_HISTORY_MODEL).sum())
        models = _with_naive_and_widths(models, run.backtest, run.scale, run.forecasts)
        if not run.backtest.empty:
            bt = run.backtest
            chosen = chosen_forecast(bt, run.selection["model"].reindex(bt["unique_id"].unique()))
            ok = np.isfinite(chosen) & bt[BASELINE].notna().to_numpy()
            y = bt["y"].to_numpy(float)
            sums = {
                "abs_err": float(np.abs(y - chosen)[ok].sum()),
                "naive_abs_err": float(np.abs(y - bt[BASELINE].to_numpy(float))[ok].sum()),
                "abs_y": float(np.abs(y)[ok].sum()),
                "points": int(ok.sum()),
            }
    rest = [s for s in skus if s not in set(due)]
    if rest:
        choice = known.reindex(rest).astype(str)
        fc = forecast_selected(panel[panel["unique_id"].isin(rest)], choice, cfg)
        widths = stored.reindex(rest)[[f"q_{lv}" for lv in LEVELS]].astype(float)
        parts.append(add_intervals(fc, widths, LEVELS))
    forecasts = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return BatchOutcome(forecasts, models, len(due), short, **sums)


def _with_naive_and_widths(
    models: pd.DataFrame, backtest: pd.DataFrame, scale: pd.Series, forecasts: pd.DataFrame
) -> pd.DataFrame:
    """Seasonal naive's backtest errors per SKU beside the chosen model's, and the interval half-widths."""
    out = models.copy()
    if not backtest.empty:
        e = (backtest["y"] - backtest[BASELINE]).abs()
        g = pd.DataFrame({"unique_id": backtest["unique_id"], "e": e, "y": backtest["y"].abs()}).groupby(
            "unique_id"
        )
        sums, counts = g[["e", "y"]].sum(), g.size()
        out["naive_mae"] = (sums["e"] / counts).reindex(out.index)
        out["naive_wape"] = (sums["e"] / sums["y"].where(sums["y"] > 0)).reindex(out.index)
        out["naive_mase"] = (sums["e"] / counts / scale.reindex(sums.index)).reindex(out.index)
    # the half-width each SKU's interval got (conformal, or the fallback's own) - reused by nightly refits
    first = forecasts.sort_values("ds").groupby("unique_id").first()
    for lv in LEVELS:
        out[f"q_{lv}"] = (first[f"hi_{lv}"] - first["yhat"]).reindex(out.index)
    return out
