"""Sales rows -> a regular panel of demand series (one row per series and period), vectorised.

Input: any sales table (order lines, invoice lines, daily totals, weekly store sales) with a date, a series key
(SKU, or SKU x channel), a quantity and optionally a unit price and a promotion flag. Output, the *panel* every
other module of the package reads:

| column      | type            | meaning                                                                    |
|-------------|-----------------|----------------------------------------------------------------------------|
| `unique_id` | str             | the series key                                                             |
| `ds`        | datetime64[ns]  | period start (day, or the Monday of the week for weekly)                   |
| `y`         | float >= 0      | units sold in the period (net of returns, never below zero)                |
| `price`     | float, optional | quantity-weighted mean unit price in the period (carried forward if unsold) |
| `promo`     | float, optional | share of the period's rows flagged as on promotion (0..1)                  |

Each series runs from its first sale to the last period of the whole table: a period with no row is a period
with no sales (0), which is what a sales log means, and a SKU that stopped selling keeps its trailing zeros.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Freq = Literal["D", "W"]
# Weekly periods start on Monday; statsforecast / mlforecast need the same anchored alias.
PANDAS_FREQ: dict[str, str] = {"D": "D", "W": "W-MON"}
SEASON_LENGTH: dict[str, int] = {"D": 7, "W": 52}


def period_start(dates: pd.Series, freq: Freq) -> pd.Series:
    """Timestamps -> the start of their period (midnight; Monday for weekly)."""
    d = pd.to_datetime(dates).dt.tz_localize(None) if _is_tz_aware(dates) else pd.to_datetime(dates)
    d = d.dt.normalize()
    if freq == "W":
        d = d - pd.to_timedelta(d.dt.dayofweek, unit="D")
    elif freq != "D":
        raise ValueError(f"unsupported frequency {freq!r} (use 'D' or 'W')")
    return d


def _is_tz_aware(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype)


def prepare_panel(
    sales: pd.DataFrame,
    *,
    freq: Freq,
    date_col: str = "date",
    sku_col: str = "sku",
    qty_col: str = "quantity",
    price_col: str | None = None,
    promo_col: str | None = None,
) -> pd.DataFrame:
    """Aggregate sales rows to `freq` and fill the gaps with zero sales (see the module doc for the columns)."""
    need = [c for c in (date_col, sku_col, qty_col, price_col, promo_col) if c]
    missing = [c for c in need if c not in sales.columns]
    if missing:
        raise ValueError(
            f"sales lack columns: {', '.join(missing)} (have: {', '.join(map(str, sales.columns))})"
        )
    dates = pd.to_datetime(sales[date_col], errors="coerce")
    qty = pd.to_numeric(sales[qty_col], errors="coerce")
    ok = (dates.notna() & qty.notna() & sales[sku_col].notna()).to_numpy()
    codes, ids = pd.factorize(sales.loc[ok, sku_col].astype(str), sort=True)
    ds = period_start(dates[ok], freq).to_numpy()
    step = np.timedelta64(7 if freq == "W" else 1, "D")
    if not len(ds):
        return pd.DataFrame(
            {"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"), "y": []}
        )
    origin = ds.min()
    n_periods = int((ds.max() - origin) // step) + 1
    # one integer key per (series, period): sums by bincount instead of a groupby over text keys
    key = codes.astype(np.int64) * n_periods + ((ds - origin) // step).astype(np.int64)
    keys, slot = np.unique(key, return_inverse=True)
    y = qty[ok].to_numpy(float)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=values, minlength=len(keys))

    grouped = pd.DataFrame(
        {
            "unique_id": ids.to_numpy()[keys // n_periods],
            "ds": origin + (keys % n_periods) * step,
            # net returns beyond sales in a period are not negative demand
            "y": np.maximum(total(y), 0.0),
        }
    )
    if price_col:
        price = pd.to_numeric(sales.loc[ok, price_col], errors="coerce").to_numpy(float)
        valid = np.isfinite(price) & (price > 0) & (y > 0)
        # quantity-weighted mean price of the period's positive sales (returns do not set a price)
        pq, q = total(np.where(valid, price * y, 0.0)), total(np.where(valid, y, 0.0))
        grouped["price"] = np.where(q > 0, pq / np.where(q > 0, q, 1.0), np.nan)
    if promo_col:
        flag = pd.to_numeric(sales.loc[ok, promo_col], errors="coerce").fillna(0).to_numpy(float) > 0
        grouped["promo"] = total(flag.astype(float)) / np.bincount(slot, minlength=len(keys))
    return fill_gaps(grouped, freq=freq)


def fill_gaps(panel: pd.DataFrame, *, freq: Freq) -> pd.DataFrame:
    """Complete each series from its first period to the table's last period (no sales -> y = 0).

    `panel` has at most one row per (unique_id, ds), as `prepare_panel` builds it.

    Price is carried forward then backward within the series; promotion is 0 where there was no row.
    """
    if panel.empty:
        return panel.assign(ds=pd.to_datetime(panel["ds"]))
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    codes, ids = pd.factorize(panel["unique_id"], sort=True)
    ds = pd.to_datetime(panel["ds"]).to_numpy()
    first = pd.Series(ds).groupby(codes).min().to_numpy()
    end = ds.max()
    lengths = ((end - first) // step.to_timedelta64()).astype(np.int64) + 1
    starts = np.cumsum(lengths) - lengths
    total = int(lengths.sum())
    # scatter each observed period to its slot: no merge, no Python loop over series
    pos = starts[codes] + ((ds - first[codes]) // step.to_timedelta64()).astype(np.int64)
    offsets = np.arange(total) - np.repeat(starts, lengths)
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(ids.to_numpy(), lengths),
            "ds": np.repeat(first, lengths) + offsets * step.to_timedelta64(),
        }
    )
    y = np.zeros(total)
    y[pos] = panel["y"].to_numpy(float)
    out["y"] = y
    for col, fill in (("price", np.nan), ("promo", 0.0)):
        if col in panel.columns:
            values = np.full(total, fill)
            values[pos] = panel[col].to_numpy(float)
            out[col] = values
    if "price" in out:
        out["price"] = out.groupby("unique_id", sort=False)["price"].ffill()
        out["price"] = out.groupby("unique_id", sort=False)["price"].bfill()
    out["unique_id"] = out["unique_id"].astype(str)
    return out


def series_lengths(panel: pd.DataFrame) -> pd.Series:
    return panel.groupby("unique_id", sort=True).size()
