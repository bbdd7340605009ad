"""Per-SKU performance over a window, top / worst 10, and the comparison of sales channels.

`sales` rows: date, sku, quantity, unit_price, and optionally unit_cost, channel, order_id. Revenue = quantity x
unit_price; margin = revenue - quantity x unit_cost (NaN cost -> margin unknown for that row); velocity = units
per day over the window. Returns are negative quantities and reduce all three.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = ("revenue", "margin", "velocity")


def _with_money(sales: pd.DataFrame) -> pd.DataFrame:
    s = sales.copy()
    s["revenue"] = s["quantity"].astype(float) * s["unit_price"].astype(float)
    cost = s["unit_cost"].astype(float) if "unit_cost" in s else pd.Series(np.nan, index=s.index)
    s["margin"] = s["revenue"] - s["quantity"].astype(float) * cost
    return s


def sku_performance(sales: pd.DataFrame, *, days: int, catalog: pd.Index | None = None) -> pd.DataFrame:
    """Index sku: units, revenue, margin, velocity. SKUs of `catalog` without sales appear with zeros."""
    if days <= 0:
        raise ValueError("days must be positive")
    s = _with_money(sales)
    g = s.groupby("sku", sort=True)
    out = g.agg(units=("quantity", "sum"), revenue=("revenue", "sum"))
    out["margin"] = g["margin"].sum(min_count=1)  # unknown when no row of the SKU has a cost
    if catalog is not None:
        unsold = catalog.difference(out.index)
        zeros = pd.DataFrame(0.0, index=unsold, columns=out.columns)
        out = pd.concat([out, zeros]).sort_index()  # a SKU that sold nothing made no margin either
        out.index.name = "sku"
    out["velocity"] = out["units"] / days
    return out


def top_and_worst(perf: pd.DataFrame, n: int = 10) -> dict[str, dict[str, pd.DataFrame]]:
    """For each metric: the n best and the n worst SKUs (ties by SKU id, rows without the metric skipped)."""
    result = {}
    for metric in METRICS:
        ranked = (
            perf[perf[metric].notna()].reset_index().sort_values([metric, "sku"], ascending=[False, True])
        )
        worst = perf[perf[metric].notna()].reset_index().sort_values([metric, "sku"], ascending=[True, True])
        result[metric] = {
            "top": ranked.head(n).reset_index(drop=True),
            "worst": worst.head(n).reset_index(drop=True),
        }
    return result


def channel_comparison(sales: pd.DataFrame) -> pd.DataFrame:
    """Per channel: orders (if order ids are given), units, revenue, margin, average unit price, revenue share."""
    s = _with_money(sales)
    agg = {"units": ("quantity", "sum"), "revenue": ("revenue", "sum"), "margin": ("margin", "sum")}
    if "order_id" in s:
        agg["orders"] = ("order_id", "nunique")
    out = s.groupby("channel", sort=True).agg(**agg)
    out["avg_unit_price"] = out["revenue"] / out["units"].where(out["units"] != 0)
    out["margin_rate"] = out["margin"] / out["revenue"].where(out["revenue"] != 0)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    return out.reset_index()
