"""Out-of-sample check of the repricing demand model (`domain.repricing.demand`) on a sales panel.

The model is fitted, unchanged, on the first 80 % of each series' periods; on the last 20 % it predicts demand at
the prices that were actually charged. The baseline predicts the same held-out periods without prices (the
series' training mean). Both are scored with the model's own validation measure - MAE of log(1 + units) - and,
in units, with WAPE of expm1(prediction). If the fitted slope explains real price variation the model's error is
below the baseline's; if not, the repricing engine should not trust it (its confidence gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.repricing.demand import DemandModel, fit_demand_model


@dataclass(frozen=True)
class PriceResponseReport:
    model: DemandModel
    model_error: float  # MAE of log1p(units) on held-out periods, predicted at the realised prices
    baseline_error: float  # same rows, same measure, no price (series' training mean)
    model_wape: float
    baseline_wape: float
    test_rows: int
    train_rows: int
    series: int
    categories_without_elasticity: list[str]

    @property
    def improvement(self) -> float:
        return 1.0 - self.model_error / self.baseline_error if self.baseline_error else float("nan")


def history_from_panel(panel: pd.DataFrame, categories: pd.Series | None = None) -> pd.DataFrame:
    """Panel (unique_id, ds, y, price) -> the demand model's history (sku, category, period, price, units).

    Periods without a positive price are dropped (nothing to learn from them); `categories` maps unique_id to
    the category whose slope is shared (default: one category, `all`).
    """
    if "price" not in panel.columns:
        raise ValueError("the sales have no price column: a price response cannot be fitted")
    h = pd.DataFrame(
        {
            "sku": panel["unique_id"].to_numpy(),
            "period": panel["ds"].to_numpy(),
            "price": panel["price"].to_numpy(float),
            "units": panel["y"].to_numpy(float),
        }
    )
    cat = h["sku"].map(categories) if categories is not None else pd.Series("all", index=h.index)
    h["category"] = cat.fillna("all").astype(str).to_numpy()
    return h[np.isfinite(h["price"]) & (h["price"] > 0) & (h["units"] >= 0)].reset_index(drop=True)


def split_by_time(history: pd.DataFrame, holdout: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First (1 - holdout) of each series' periods / the rest - the rule `fit_demand_model` uses itself."""
    rank = history.groupby("sku")["period"].rank(method="first", pct=True)
    return history[rank <= 1 - holdout], history[rank > 1 - holdout]


def price_response_backtest(
    history: pd.DataFrame, *, holdout: float = 0.2, min_rows: int = 50
) -> PriceResponseReport:
    train, test = split_by_time(history, holdout)
    model = fit_demand_model(train, holdout=0.0, min_rows=min_rows)
    lp = np.log(train["price"].to_numpy(float))
    lu = np.log1p(train["units"].to_numpy(float))
    means = pd.DataFrame({"sku": train["sku"].to_numpy(), "lp": lp, "lu": lu}).groupby("sku").mean()
    # scored where the model has a slope and the series has training data (as the model's own validation)
    t = test[test["sku"].isin(means.index) & test["category"].isin(model.elasticity)]
    m = means.loc[t["sku"].to_numpy()]
    slope = t["category"].map(model.elasticity).to_numpy(float)
    base = m["lu"].to_numpy()
    pred = base + slope * (np.log(t["price"].to_numpy(float)) - m["lp"].to_numpy())
    actual_log = np.log1p(t["units"].to_numpy(float))
    units = t["units"].to_numpy(float)
    total = units.sum()

    def wape(pred_log: np.ndarray) -> float:
        return float(np.abs(np.expm1(pred_log) - units).sum() / total) if total > 0 else float("nan")

    has_rows = len(t) > 0
    return PriceResponseReport(
        model=model,
        model_error=float(np.mean(np.abs(pred - actual_log))) if has_rows else float("nan"),
        baseline_error=float(np.mean(np.abs(base - actual_log))) if has_rows else float("nan"),
        model_wape=wape(pred),
        baseline_wape=wape(base),
        test_rows=len(t),
        train_rows=len(train),
        series=int(history["sku"].nunique()),
        categories_without_elasticity=sorted(set(history["category"]) - set(model.elasticity)),
    )
