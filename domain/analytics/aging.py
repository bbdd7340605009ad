"""Inventory aging buckets and the value at risk in each.

Lots (what is on hand, by receipt date) are aged at `today` and bucketed 0-30, 31-60, 61-90, 91-180, 180+ days.
Value at risk: the part of a lot that, selling first-in first-out at the SKU's current velocity, will still be on
the shelf when the lot turns `risk_age_days` old (default 180) - stock heading for write-down. A SKU that does not
sell puts all of its stock at risk.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

BUCKETS = ("0-30", "31-60", "61-90", "91-180", "180+")
_EDGES = [-np.inf, 30, 60, 90, 180, np.inf]


def lot_aging(
    lots: pd.DataFrame, velocity: pd.Series, *, today: date, risk_age_days: int = 180
) -> pd.DataFrame:
    """Per lot: age_days, bucket, value, units_at_risk, value_at_risk.

    `lots`: sku, received_on, quantity, unit_cost. `velocity`: sku -> units sold per day (missing = 0).
    """
    lt = lots.copy()
    lt["age_days"] = (pd.Timestamp(today) - pd.to_datetime(lt["received_on"])).dt.days.clip(lower=0)
    lt["bucket"] = pd.cut(lt["age_days"], _EDGES, labels=BUCKETS, right=True)
    lt["value"] = lt["quantity"].astype(float) * lt["unit_cost"].astype(float)
    lt = lt.sort_values(["sku", "age_days"], ascending=[True, False], kind="stable")  # oldest first (FIFO)
    qty = lt["quantity"].to_numpy(float)
    ahead = (
        lt.groupby("sku", sort=False)["quantity"].cumsum().to_numpy(float) - qty
    )  # units that sell before it
    v = lt["sku"].map(velocity).fillna(0.0).to_numpy(float)
    days_left = np.maximum(risk_age_days - lt["age_days"].to_numpy(float), 0.0)
    sold_in_time = np.clip(v * days_left - ahead, 0.0, qty)
    lt["units_at_risk"] = qty - sold_in_time
    lt["value_at_risk"] = lt["units_at_risk"] * lt["unit_cost"].astype(float)
    return lt


def aging_buckets(
    lots: pd.DataFrame, velocity: pd.Series, *, today: date, risk_age_days: int = 180
) -> pd.DataFrame:
    """One row per bucket (all five, in order): units, value, units_at_risk, value_at_risk, share_of_value."""
    lt = lot_aging(lots, velocity, today=today, risk_age_days=risk_age_days)
    out = lt.groupby("bucket", observed=False)[["quantity", "value", "units_at_risk", "value_at_risk"]].sum()
    out = out.reindex(list(BUCKETS)).fillna(0.0).rename(columns={"quantity": "units"})
    total = out["value"].sum()
    out["share_of_value"] = out["value"] / total if total > 0 else 0.0
    out.index.name = "bucket"
    return out.reset_index()
