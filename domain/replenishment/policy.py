"""Inventory formulas, vectorised (numpy arrays or scalars in, arrays out).

- Lead-time demand = d * L (d: mean demand per day, L: mean lead time in days).
- Safety stock = z * sqrt(L * sd_d^2 + d^2 * sd_L^2): demand error over the lead time plus lead-time variability
  (Chopra & Meindl, *Supply Chain Management*, the safety-inventory chapter; Silver, Pyke & Thomas, *Inventory
  and Production Management in Supply Chains*). `sd_d` is the forecast's error per day, not the demand's spread:
  what the safety stock must cover is what the forecast gets wrong.
- Reorder point = lead-time demand + safety stock; z = the standard normal quantile of the cycle service level.
- EOQ = sqrt(2 * D * S / H) (Harris, 1913): D units a year, S per order, H per unit and year.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

ArrayLike = float | np.ndarray


def service_level_z(service_level: ArrayLike) -> np.ndarray:
    p = np.asarray(service_level, dtype=float)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("service level must be strictly between 0 and 1")
    return ndtri(p)


def lead_time_demand(demand_per_day: ArrayLike, lead_time_days: ArrayLike) -> np.ndarray:
    return np.asarray(demand_per_day, dtype=float) * np.asarray(lead_time_days, dtype=float)


def lead_time_sigma(
    demand_per_day: ArrayLike,
    sigma_per_day: ArrayLike,
    lead_time_days: ArrayLike,
    lead_time_std_days: ArrayLike,
) -> np.ndarray:
    d = np.asarray(demand_per_day, dtype=float)
    sd = np.asarray(sigma_per_day, dtype=float)
    lt = np.asarray(lead_time_days, dtype=float)
    sl = np.asarray(lead_time_std_days, dtype=float)
    return np.sqrt(lt * sd**2 + d**2 * sl**2)


def safety_stock(
    service_level: ArrayLike,
    demand_per_day: ArrayLike,
    sigma_per_day: ArrayLike,
    lead_time_days: ArrayLike,
    lead_time_std_days: ArrayLike = 0.0,
) -> np.ndarray:
    sigma = lead_time_sigma(demand_per_day, sigma_per_day, lead_time_days, lead_time_std_days)
    return np.maximum(service_level_z(service_level) * sigma, 0.0)


def reorder_point(
    service_level: ArrayLike,
    demand_per_day: ArrayLike,
    sigma_per_day: ArrayLike,
    lead_time_days: ArrayLike,
    lead_time_std_days: ArrayLike = 0.0,
) -> np.ndarray:
    return lead_time_demand(demand_per_day, lead_time_days) + safety_stock(
        service_level, demand_per_day, sigma_per_day, lead_time_days, lead_time_std_days
    )


def economic_order_quantity(
    annual_demand: ArrayLike, order_cost: ArrayLike, holding_cost_per_unit_year: ArrayLike
) -> np.ndarray:
    """sqrt(2DS/H); 0 where there is no demand, NaN where holding costs nothing (no finite optimum)."""
    d = np.asarray(annual_demand, dtype=float)
    s = np.asarray(order_cost, dtype=float)
    h = np.asarray(holding_cost_per_unit_year, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * np.maximum(d, 0.0) * s / h)
    return np.where(h > 0, q, np.nan)


def round_order_quantity(quantity: ArrayLike, moq: ArrayLike = 1, pack_size: ArrayLike = 1) -> np.ndarray:
    """Smallest multiple of the pack size that is >= both the wanted quantity and the MOQ; 0 stays 0."""
    q = np.asarray(quantity, dtype=float)
    m = np.maximum(np.asarray(moq, dtype=float), 0.0)
    p = np.maximum(np.asarray(pack_size, dtype=float), 1.0)
    wanted = np.maximum(q, m)
    rounded = np.ceil(np.round(wanted / p, 9)) * p  # round first: 0.1 * 30 / 3 must not become 2 packs
    return np.where(q > 0, rounded, 0.0)
