"""Sell-through and stock-out days per SKU over a period.

Sell-through = units sold / (units on hand at the start + units received); stock-out days = days whose closing
stock was zero or below, from a daily stock-level table (sku, date, on_hand).
"""

from __future__ import annotations

import pandas as pd


def sell_through(sold: pd.Series, opening: pd.Series, received: pd.Series | None = None) -> pd.Series:
    """sku -> share 0..1 (NaN where nothing was available)."""
    idx = sold.index.union(opening.index)
    avail = opening.reindex(idx).fillna(0.0) + (
        received.reindex(idx).fillna(0.0) if received is not None else 0.0
    )
    return (sold.reindex(idx).fillna(0.0) / avail.where(avail > 0)).clip(upper=1.0).rename("sell_through")


def stockout_days(levels: pd.DataFrame) -> pd.DataFrame:
    """Index sku: days observed, stock-out days and their share, from daily closing levels."""
    out = (
        levels.assign(out=levels["on_hand"].astype(float) <= 0)
        .groupby("sku", sort=True)
        .agg(days=("date", "nunique"), stockout_days=("out", "sum"))
    )
    out["stockout_share"] = out["stockout_days"] / out["days"]
    return out
