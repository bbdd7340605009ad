"""30-day revenue projection with its interval, from per-SKU daily demand forecasts.

Revenue per SKU and day = forecast units x price. The interval of the total takes the SKUs' forecast errors as
independent: each day's sd is recovered from its central interval (half-width / z), variances add up. Summing the
bounds instead would assume every SKU misses in the same direction on the same day and overstate the range by
roughly sqrt(number of SKU-days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri


@dataclass(frozen=True)
class RevenueProjection:
    days: int
    level: int
    expected: float
    low: float
    high: float
    daily: pd.DataFrame  # ds, expected, low, high (per-day totals, same independence rule)


def revenue_projection(
    forecasts: pd.DataFrame, prices: pd.Series, *, days: int = 30, level: int = 80
) -> RevenueProjection:
    """`forecasts`: unique_id, ds, yhat, lo_<level>, hi_<level> (daily); `prices`: unique_id -> unit price."""
    lo_col, hi_col = f"lo_{level}", f"hi_{level}"
    if lo_col not in forecasts or hi_col not in forecasts:
        raise ValueError(f"forecasts carry no {level} % interval")
    start = forecasts["ds"].min()
    covered = int((forecasts["ds"].max() - start).days) + 1
    if covered < days:
        raise ValueError(f"forecasts cover {covered} days; a {days}-day projection needs a horizon of {days}")
    fc = forecasts[forecasts["ds"] < start + pd.Timedelta(days=days)]
    price = fc["unique_id"].map(prices).astype(float).fillna(0.0).to_numpy()
    z = float(ndtri(0.5 + level / 200.0))
    mean = fc["yhat"].to_numpy(float) * price
    sd = (fc[hi_col].to_numpy(float) - fc[lo_col].to_numpy(float)) / (2 * z) * price
    frame = pd.DataFrame({"ds": fc["ds"].to_numpy(), "expected": mean, "var": np.nan_to_num(sd) ** 2})
    daily = frame.groupby("ds", sort=True)[["expected", "var"]].sum()
    daily_sd = np.sqrt(daily["var"])
    daily_out = pd.DataFrame(
        {
            "expected": daily["expected"],
            "low": (daily["expected"] - z * daily_sd).clip(lower=0.0),
            "high": daily["expected"] + z * daily_sd,
        }
    ).reset_index()
    total, total_sd = float(mean.sum()), float(np.sqrt(daily["var"].sum()))
    return RevenueProjection(
        days, level, total, max(total - z * total_sd, 0.0), total + z * total_sd, daily_out
    )
