"""Demand response to price, learned from price / sales history with scikit-learn.

Model: log(units) = a_sku + e_category * log(price) + noise. SKU effects are removed by demeaning within each SKU
(the "within" estimator), so one slope per category is fitted on all its SKUs at once: cheap for millions of rows.
Validation: the last `holdout` fraction of each SKU's periods is held out; the error is reported as MAE of log units
and as a median absolute percentage error of units, and stored by the caller with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import HuberRegressor


@dataclass
class DemandModel:
    elasticity: dict[str, float]  # category -> slope of log units on log price
    confidence: dict[str, float]  # category -> 0..1 from sample size and fit quality
    validation_mae_log: float
    validation_mape: float
    n_rows: int
    details: dict[str, dict[str, float]] = field(default_factory=dict)

    def for_categories(self, categories: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        e = categories.map(self.elasticity).to_numpy(float)
        c = categories.map(self.confidence).fillna(0.0).to_numpy(float)
        return e, c


def _demeaned(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"category": df["category"].to_numpy()})
    lp = np.log(df["price"].to_numpy(float))
    lu = np.log1p(df["units"].to_numpy(float))
    g = df["sku"].to_numpy()
    out["x"] = lp - pd.Series(lp).groupby(g).transform("mean").to_numpy()
    out["y"] = lu - pd.Series(lu).groupby(g).transform("mean").to_numpy()
    return out


def fit_demand_model(history: pd.DataFrame, *, holdout: float = 0.2, min_rows: int = 50) -> DemandModel:
    """`history` columns: sku, category, period (sortable), price (> 0), units (>= 0)."""
    need = {"sku", "category", "period", "price", "units"}
    if not need <= set(history.columns):
        raise ValueError(f"history lacks columns: {', '.join(sorted(need - set(history.columns)))}")
    h = history[(history["price"] > 0) & (history["units"] >= 0)].copy()
    h["_rank"] = h.groupby("sku")["period"].rank(method="first", pct=True)
    train, test = h[h["_rank"] <= 1 - holdout], h[h["_rank"] > 1 - holdout]
    tr = _demeaned(train)
    elasticity: dict[str, float] = {}
    confidence: dict[str, float] = {}
    details: dict[str, dict[str, float]] = {}
    for cat, part in tr.groupby("category"):
        x = part["x"].to_numpy()
        if len(part) < min_rows or float(np.std(x)) < 1e-6:
            continue  # no price variation: nothing can be learned about demand response
        reg = HuberRegressor(fit_intercept=False, max_iter=200).fit(x.reshape(-1, 1), part["y"].to_numpy())
        slope = float(reg.coef_[0])
        resid = part["y"].to_numpy() - slope * x
        se = float(np.sqrt(np.mean(resid**2) / max(1.0, float(np.sum(x**2)))))
        elasticity[str(cat)] = slope
        # confident when the slope is many standard errors away from zero and there is plenty of data
        t = abs(slope) / se if se > 0 else 0.0
        confidence[str(cat)] = float(np.clip((t / 10.0) * min(1.0, len(part) / 1000.0), 0.0, 1.0))
        details[str(cat)] = {"rows": float(len(part)), "stderr": se}

    # validation: predict held-out log units from the SKU's training means and the category slope
    mae_log, mape = float("nan"), float("nan")
    if len(test) and elasticity:
        lp_tr = np.log(train["price"].to_numpy(float))
        lu_tr = np.log1p(train["units"].to_numpy(float))
        means = pd.DataFrame({"sku": train["sku"].to_numpy(), "lp": lp_tr, "lu": lu_tr}).groupby("sku").mean()
        t = test[test["sku"].isin(means.index) & test["category"].astype(str).isin(elasticity)]
        if len(t):
            m = means.loc[t["sku"].to_numpy()]
            e = t["category"].astype(str).map(elasticity).to_numpy(float)
            pred = m["lu"].to_numpy() + e * (np.log(t["price"].to_numpy(float)) - m["lp"].to_numpy())
            actual = np.log1p(t["units"].to_numpy(float))
            mae_log = float(np.mean(np.abs(pred - actual)))
            units = t["units"].to_numpy(float)
            ok = units > 0
            mape = (
                float(np.median(np.abs(np.expm1(pred[ok]) - units[ok]) / units[ok]))
                if ok.any()
                else float("nan")
            )
    return DemandModel(elasticity, confidence, mae_log, mape, len(h), details)


def synthetic_history(
    skus: pd.DataFrame, *, periods: int, rng: np.random.Generator, elasticity: dict[str, float] | None = None
) -> pd.DataFrame:
    """Price / sales history with a known demand response, for tests and benchmarks (and the demo).

    `skus` columns: sku, category, price. Each period the price moves a few percent and units follow
    base * (p / p0) ** e with Poisson noise.
    """
    n = len(skus)
    cats = skus["category"].astype(str).to_numpy()
    e_true = pd.Series(cats).map(elasticity or {}).fillna(-2.0).to_numpy(float)
    p0 = skus["price"].to_numpy(float)
    base = rng.gamma(2.0, 5.0, size=n)
    sku = np.repeat(skus["sku"].to_numpy(), periods)
    period = np.tile(np.arange(periods), n)
    price = np.repeat(p0, periods) * np.exp(rng.normal(0, 0.08, size=n * periods))
    lam = np.repeat(base, periods) * np.power(price / np.repeat(p0, periods), np.repeat(e_true, periods))
    units = rng.poisson(lam)
    return pd.DataFrame(
        {"sku": sku, "category": np.repeat(cats, periods), "period": period, "price": price, "units": units}
    )
