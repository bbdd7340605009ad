"""Running the pricing engine on a loaded batch: suggestions, the seller's own min / max price per product, and the
expected daily effect at each listing's current sales run-rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from domain.repricing.config import PricingConfig
from domain.repricing.engine import suggest_prices

CARRIED = ("cost", "competitor_min", "competitor_max", "age_days", "stock", "elasticity", "model_confidence",
           "run_rate", "fee_rate", "fee_fixed", "min_price", "max_price", "currency")  # fmt: skip


def price_batch(frame: pd.DataFrame, config: PricingConfig, *, today: date) -> pd.DataFrame:
    """Engine output joined with the inputs a proposal shows, plus `margin_delta` / `revenue_delta` per day."""
    usable = frame[frame["usable"]].reset_index(drop=True)
    out = suggest_prices(usable, config, today=today)
    for col in CARRIED:
        out[col] = usable[col].to_numpy() if col in usable.columns else np.nan
    _seller_bounds(out, config)
    rate = out["run_rate"].to_numpy(float)
    uf = out["expected_units_factor"].to_numpy(float)
    out["margin_delta"] = rate * (
        uf * out["unit_margin_new"].to_numpy(float) - out["unit_margin_now"].to_numpy(float)
    )
    out["revenue_delta"] = rate * (
        uf * out["suggested_price"].to_numpy(float) - out["current_price"].to_numpy(float)
    )
    return out


def _seller_bounds(out: pd.DataFrame, config: PricingConfig) -> None:
    """A product's own min / max price (set by the seller) narrow the engine's band; the cost floor still wins."""
    s = out["suggested_price"].to_numpy(float)
    lo, hi = out["min_price"].to_numpy(float), out["max_price"].to_numpy(float)
    floor = out["floor_price"].to_numpy(float)
    over = ~np.isnan(hi) & (s > hi)
    under = ~np.isnan(lo) & (s < lo)
    if not (over.any() or under.any()):
        return
    bounded = np.where(over, np.maximum(hi, np.ceil(floor * 100) / 100), s)
    bounded = np.where(under, lo, bounded)
    cur = out["current_price"].to_numpy(float)
    fee_rate, fee_fixed = out["fee_rate"].to_numpy(float), out["fee_fixed"].to_numpy(float)
    moved = over | under
    ratio = np.where(moved, bounded / np.maximum(s, 0.01), 1.0)
    out["suggested_price"] = np.round(bounded, 2)
    out["changed"] = out["suggested_price"].to_numpy() != cur
    out["change_pct"] = np.round((bounded - cur) / np.where(cur > 0, cur, np.nan) * 100, 2)
    out["unit_margin_new"] = np.round(bounded * (1 - fee_rate) - fee_fixed - out["cost"].to_numpy(float), 4)
    out["expected_revenue_factor"] = np.round(out["expected_revenue_factor"].to_numpy(float) * ratio, 4)
    note = np.where(
        over, "; held at the seller's max price", np.where(under, "; held at the seller's min price", "")
    )
    out["reasoning"] = out["reasoning"].astype(str) + note


def as_money(x: float) -> Decimal:
    return Decimal(str(round(float(x), 2)))
