"""Sales files with known structure for the forecasting and replenishment tests."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np


def daily_sales_csv(rates: dict[str, float], *, days: int, end: date, seed: int = 0, price: float = 12.5,
                    buyers: int = 0, channels: tuple[str, ...] = ("shop",)) -> str:  # fmt: skip
    """One row per SKU and day with Poisson sales around `rates[sku]` (zero days left out, as a sales log does),
    the last day being `end`. With `buyers`, each row names one of that many buyer ids."""
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["date", "sku", "quantity", "unit_price", "channel", "buyer_id"])
    for i in range(days):
        day = end - timedelta(days=days - 1 - i)
        for n, (sku, rate) in enumerate(sorted(rates.items())):
            q = int(rng.poisson(rate))
            if q:
                buyer = f"customer-{rng.integers(buyers)}@example.com" if buyers else ""
                w.writerow(
                    [day.isoformat(), sku, q, f"{price:.2f}", channels[(i + n) % len(channels)], buyer]
                )
    return out.getvalue()
