"""Generated daily sales with known structure, for tests and the scale benchmark (not for production use).

Each series has one *kind*: `seasonal` (weekly pattern and a yearly wave), `trend` (a steady rise), `intermittent`
(a sale on ~1 day in 6 with a variable size) or `price` (demand follows price ** elasticity, with promotions).
Counts are Poisson (negative binomial for intermittent sizes) around the known mean, so tests can check that the
pipeline recovers the structure, not the noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("seasonal", "trend", "intermittent", "price")
WEEKLY_PATTERN = np.array([0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 0.9])  # Monday..Sunday


def generate_sales(
    n_series: int,
    days: int,
    *,
    seed: int = 0,
    kinds: tuple[str, ...] = KINDS,
    start: str = "2023-01-02",
    elasticity: float = -2.0,
) -> pd.DataFrame:
    """Daily rows `sku, date, quantity, unit_price, promo, kind` for `n_series` series over `days` days.

    Kinds are assigned round-robin (`kinds[i % len(kinds)]`). Zero-sale days are included as rows, so the frame
    is also a complete panel; `prepare_panel` accepts it like any sales file.
    """
    rng = np.random.default_rng(seed)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}")
    dates = pd.date_range(start, periods=days, freq="D")
    t = np.arange(days, dtype=float)[None, :]
    kind_idx = np.arange(n_series) % len(kinds)
    kind = np.asarray(kinds)[kind_idx][:, None]
    level = rng.gamma(3.0, 4.0, size=(n_series, 1)) + 2.0
    dow = WEEKLY_PATTERN[dates.dayofweek.to_numpy()][None, :]
    yearly = 1.0 + 0.25 * np.sin(2 * np.pi * (t + rng.uniform(0, 365, (n_series, 1))) / 365.25)
    base_price = np.round(rng.lognormal(2.5, 0.5, size=(n_series, 1)), 2)
    # prices move in steps that last a few weeks; promotions cut 20 % off for a week now and then
    steps = rng.normal(0.0, 0.12, size=(n_series, days // 21 + 1))
    price_path = np.repeat(steps, 21, axis=1)[:, :days]
    promo = rng.random((n_series, days // 7 + 1)) < 0.12
    promo = np.repeat(promo, 7, axis=1)[:, :days]
    is_price = kind == "price"
    price = base_price * np.where(is_price, np.exp(price_path), 1.0) * np.where(is_price & promo, 0.8, 1.0)
    mean = np.where(kind == "seasonal", level * 1.5 * dow * yearly, level)
    mean = np.where(kind == "trend", level * (0.5 + 1.5 * t / days) * dow, mean)
    mean = np.where(is_price, level * 1.5 * dow * np.power(price / base_price, elasticity), mean)
    qty = rng.poisson(mean)
    # intermittent: a sale on ~1 day in 6, size 1 + negative binomial (variable)
    occurs = rng.random((n_series, days)) < 1 / 6
    sizes = 1 + rng.negative_binomial(2, 0.4, size=(n_series, days))
    qty = np.where(kind == "intermittent", occurs * sizes, qty)
    return pd.DataFrame(
        {
            "sku": np.repeat(np.char.add("SKU-", np.arange(n_series).astype(str)), days),
            "date": np.tile(dates.to_numpy(), n_series),
            "quantity": qty.ravel().astype(np.int64),
            "unit_price": np.broadcast_to(price, (n_series, days)).ravel(),
            "promo": (is_price & promo).ravel().astype(np.int8),
            "kind": np.repeat(kind.ravel(), days),
        }
    )
