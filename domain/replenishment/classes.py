"""ABC (value) and XYZ (predictability) classes of a catalogue.

ABC: SKUs sorted by revenue; A until the cumulative share reaches `a` (default 80 %), B until `b` (95 %), the rest
C - the Pareto rule of thumb (Silver, Pyke & Thomas). The SKU that crosses a boundary belongs to the class it
completes. XYZ: coefficient of variation of demand per period; X <= 0.5, Y <= 1.0, Z above or without demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def abc_classes(revenue: pd.Series, *, a: float = 0.80, b: float = 0.95) -> pd.Series:
    """sku -> 'A' / 'B' / 'C' from each SKU's revenue (index: sku). Zero-revenue SKUs are C."""
    if not 0 < a < b <= 1:
        raise ValueError("need 0 < a < b <= 1")
    r = revenue.clip(lower=0).fillna(0.0).sort_values(ascending=False, kind="stable")
    total = float(r.sum())
    if total <= 0:
        return pd.Series("C", index=revenue.index, name="abc")
    before = (r.cumsum() - r) / total  # share held by the SKUs ranked above this one
    cls = np.where(before < a, "A", np.where(before < b, "B", "C"))
    cls = np.where(r.to_numpy() > 0, cls, "C")
    return pd.Series(cls, index=r.index, name="abc").reindex(revenue.index)


def xyz_classes(demand: pd.DataFrame, *, x: float = 0.5, y: float = 1.0) -> pd.Series:
    """sku -> 'X' / 'Y' / 'Z' from per-period demand rows (columns sku, y; one row per sku and period)."""
    g = demand.groupby("sku", sort=True)["y"]
    mean, std = g.mean(), g.std(ddof=0)
    cv = std / mean.where(mean > 0)
    cls = np.select([cv <= x, cv <= y], ["X", "Y"], default="Z")
    return pd.Series(cls, index=mean.index, name="xyz")
