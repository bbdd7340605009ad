"""Per-SKU replenishment plan and reorder suggestions grouped by supplier, for a whole catalogue at once.

Inputs (DataFrames):

- `items`: sku, supplier_id (may be missing), on_hand, on_order (optional, default 0), unit_cost, and optionally
  service_level (overrides the setting per SKU).
- `demand`: sku, demand_per_day (forecast mean), sigma_per_day (forecast error per day, e.g. backtest RMSE),
  has_history (bool). SKUs absent here have no history.
- `suppliers`: supplier_id, lead_time_days, lead_time_std_days, moq, pack_size, currency, and optionally name,
  contact, order_cost (overrides the setting).

Policy: continuous review (s, S) with s = reorder point and S = s + EOQ; when the inventory position (on hand +
on order) is at or below s, order S - position, rounded up to the supplier's MOQ and pack size. Without sales
history the source documents' defaults apply: reorder point 10, order quantity 50 (still MOQ / pack rounded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.replenishment.policy import (
    economic_order_quantity,
    lead_time_demand,
    round_order_quantity,
    safety_stock,
)


@dataclass(frozen=True)
class ReplenishmentSettings:
    service_level: float = 0.95
    order_cost: float = 50.0  # per purchase order, in the supplier's currency
    holding_rate: float = 0.25  # share of unit cost per year
    default_reorder_point: float = 10.0
    default_order_quantity: float = 50.0
    default_lead_time_days: float = 14.0  # a SKU without a supplier link
    days_per_year: float = 365.0


def _supplier_terms(items: pd.DataFrame, suppliers: pd.DataFrame, s: ReplenishmentSettings) -> pd.DataFrame:
    sup = suppliers.drop_duplicates("supplier_id").set_index("supplier_id")
    key = items["supplier_id"]

    def col(name: str, default: float) -> np.ndarray:
        if name not in sup.columns:
            return np.full(len(items), default)
        return key.map(sup[name]).astype(float).fillna(default).to_numpy()

    return pd.DataFrame(
        {
            "lead_time_days": col("lead_time_days", s.default_lead_time_days),
            "lead_time_std_days": col("lead_time_std_days", 0.0),
            "moq": col("moq", 1.0),
            "pack_size": col("pack_size", 1.0),
            "order_cost": col("order_cost", s.order_cost),
        },
        index=items.index,
    )


def plan_replenishment(
    items: pd.DataFrame,
    demand: pd.DataFrame,
    suppliers: pd.DataFrame,
    settings: ReplenishmentSettings | None = None,
) -> pd.DataFrame:
    """One row per item: the inputs used, safety_stock, reorder_point, eoq, inventory_position, order_qty, basis."""
    s = settings or ReplenishmentSettings()
    it = items.reset_index(drop=True).copy()
    if "supplier_id" not in it:
        it["supplier_id"] = None
    it["on_order"] = it["on_order"].fillna(0.0) if "on_order" in it else 0.0
    dem = demand.drop_duplicates("sku").set_index("sku")
    it["has_history"] = it["sku"].map(dem["has_history"]).eq(True).to_numpy()
    it["demand_per_day"] = it["sku"].map(dem["demand_per_day"]).astype(float).fillna(0.0).to_numpy()
    it["sigma_per_day"] = it["sku"].map(dem["sigma_per_day"]).astype(float).fillna(0.0).to_numpy()
    terms = _supplier_terms(it, suppliers, s)
    it = pd.concat([it, terms], axis=1)
    service = (
        it["service_level"].fillna(s.service_level).to_numpy(float)
        if "service_level" in it
        else s.service_level
    )
    d, sd = it["demand_per_day"].to_numpy(), it["sigma_per_day"].to_numpy()
    lt, lt_sd = it["lead_time_days"].to_numpy(), it["lead_time_std_days"].to_numpy()
    hist = it["has_history"].to_numpy()
    it["lead_time_demand"] = lead_time_demand(d, lt)
    it["safety_stock"] = safety_stock(service, d, sd, lt, lt_sd)
    rop = it["lead_time_demand"].to_numpy() + it["safety_stock"].to_numpy()
    eoq = economic_order_quantity(
        d * s.days_per_year, it["order_cost"], s.holding_rate * it["unit_cost"].astype(float)
    )
    eoq = np.where(np.isfinite(eoq) & (eoq > 0), eoq, s.default_order_quantity)
    it["reorder_point"] = np.where(hist, rop, s.default_reorder_point)
    it["eoq"] = np.where(hist, eoq, s.default_order_quantity)
    it["inventory_position"] = it["on_hand"].astype(float) + it["on_order"].astype(float)
    position = it["inventory_position"].to_numpy()
    needed = position <= it["reorder_point"].to_numpy()
    wanted = np.where(
        hist,
        it["reorder_point"].to_numpy() + it["eoq"].to_numpy() - position,  # up to S = s + Q
        s.default_order_quantity,
    )
    it["order_qty"] = np.where(needed, round_order_quantity(wanted, it["moq"], it["pack_size"]), 0.0)
    it["basis"] = np.where(hist, "forecast", "defaults (no sales history)")
    return it


def suggestions_by_supplier(plan: pd.DataFrame, suppliers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, lines): one summary row per supplier with something to order, and the order lines sorted by
    supplier then value. Items without a supplier are grouped under supplier_id '(unassigned)'."""
    lines = plan[plan["order_qty"] > 0].copy()
    lines["supplier_id"] = lines["supplier_id"].fillna("(unassigned)").astype(str)
    lines["line_value"] = lines["order_qty"] * lines["unit_cost"].astype(float)
    lines = lines.sort_values(["supplier_id", "line_value"], ascending=[True, False], kind="stable")
    summary = lines.groupby("supplier_id", sort=True).agg(
        lines=("sku", "size"), units=("order_qty", "sum"), value=("line_value", "sum")
    )
    sup = suppliers.assign(supplier_id=suppliers["supplier_id"].astype(str)).drop_duplicates("supplier_id")
    extra = [c for c in ("name", "currency", "contact") if c in sup.columns]
    summary = summary.join(sup.set_index("supplier_id")[extra], how="left").reset_index()
    return summary, lines.reset_index(drop=True)


def demand_from_forecast(
    forecasts: pd.DataFrame, selection: pd.DataFrame, *, period_days: int = 1
) -> pd.DataFrame:
    """The plan's `demand` input from a forecast run (`domain.forecasting.pipeline.ForecastRun`).

    demand_per_day = mean forecast over the horizon / period_days; sigma_per_day = the chosen model's backtest
    RMSE per period / sqrt(period_days) (errors of the days of a week taken as independent). SKUs whose model
    is the short-history fallback count as without history.
    """
    mean = forecasts.groupby("unique_id")["yhat"].mean() / period_days
    sel = selection.reindex(mean.index)
    rmse = sel["backtest_rmse"] if "backtest_rmse" in sel else pd.Series(np.nan, index=mean.index)
    has_history = rmse.notna().to_numpy()
    return pd.DataFrame(
        {
            "sku": mean.index.to_numpy(),
            "demand_per_day": mean.to_numpy(),
            "sigma_per_day": (rmse / np.sqrt(period_days)).fillna(0.0).to_numpy(),
            "has_history": has_history,
        }
    )
