"""A catalogue with sales, stock, receipts and stored forecasts written straight to the database (bulk inserts),
for the dashboard test and benchmarks/dashboard.py (100,000 SKUs in a few minutes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from activities.forecasting.tables import ForecastModelRow, ForecastSeriesRow, SalesLine
from activities.stock.tables import StockLedgerEntry
from merchflow.db.models import Product, StockLevel

_CHUNK = 20_000


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:  # type: ignore[type-arg]
    for i in range(0, len(rows), _CHUNK):
        conn.execute(sa.insert(table), rows[i : i + _CHUNK])


def seed_catalogue(engine: sa.Engine, *, skus: int, today: date, sales_days: int = 90, seed: int = 0,
                   prefix: str = "D", horizon: int = 30) -> list[str]:  # fmt: skip
    """`skus` products with stock, an old and a recent receipt each, Poisson daily sales over `sales_days` (one
    line per SKU and day with a sale, two channels, 500 buyers) and a stored 30-day forecast per SKU."""
    rng = np.random.default_rng(seed)
    names = [f"{prefix}-{i:06d}" for i in range(skus)]
    now = datetime.now(UTC)
    rate = rng.gamma(1.2, 1.5, size=skus)
    price = np.round(rng.lognormal(2.8, 0.5, size=skus), 2)
    on_hand = rng.integers(0, 300, size=skus)
    with engine.begin() as conn:
        _insert(conn, Product.__table__, [  # type: ignore[attr-defined]
            {"sku": s, "name": f"Item {s}", "category": f"cat-{i % 20}", "cost": round(float(price[i]) * 0.55, 2),
             "price": float(price[i]), "currency": "USD", "attributes": {}, "image_refs": [], "added_at": now,
             "updated_at": now}
            for i, s in enumerate(names)
        ])  # fmt: skip
        _insert(conn, StockLevel.__table__, [  # type: ignore[attr-defined]
            {"sku": s, "on_hand": int(on_hand[i]), "reserved": 0, "version": 1, "updated_at": now}
            for i, s in enumerate(names)
        ])  # fmt: skip
        ledger = []
        for i, s in enumerate(names):  # an old lot and a recent one, adding up to what is on hand
            old = int(on_hand[i]) // 2
            for k, (qty, age) in enumerate(((old, 200 + i % 50), (int(on_hand[i]) - old, 10 + i % 40))):
                if qty:
                    ledger.append({"sku": s, "kind": "receipt", "quantity": qty, "reserved_delta": 0,
                                   "idempotency_key": f"seed:{s}:{k}", "created_at": now - timedelta(days=age)})  # fmt: skip
        _insert(conn, StockLedgerEntry.__table__, ledger)  # type: ignore[attr-defined]
        qty = rng.poisson(rate[:, None], size=(skus, sales_days))
        sku_i, day_i = np.nonzero(qty)
        first = today - timedelta(days=sales_days)
        buyers = rng.integers(0, 500, size=len(sku_i))
        _insert(conn, SalesLine.__table__, [  # type: ignore[attr-defined]
            {"line_key": f"seed:{names[a]}:{b}", "source": "import", "sold_on": first + timedelta(days=int(b)),
             "sku": names[a], "quantity": int(qty[a, b]), "unit_price": float(price[a]),
             "channel": "amazon" if (a + b) % 3 else "ebay", "buyer": f"{int(c):032x}", "created_at": now}
            for a, b, c in zip(sku_i.tolist(), day_i.tolist(), buyers.tolist(), strict=True)
        ])  # fmt: skip
        _insert(conn, ForecastSeriesRow.__table__, [  # type: ignore[attr-defined]
            {"sku": s, "run_id": "seed", "model": "SeasonalES", "start": today, "updated_at": now,
             "yhat": [round(float(rate[i]), 3)] * horizon,
             "lo80": [round(max(0.0, float(rate[i]) - 1.3 * float(np.sqrt(rate[i]))), 3)] * horizon,
             "hi80": [round(float(rate[i]) + 1.3 * float(np.sqrt(rate[i])), 3)] * horizon,
             "lo95": [round(max(0.0, float(rate[i]) - 2 * float(np.sqrt(rate[i]))), 3)] * horizon,
             "hi95": [round(float(rate[i]) + 2 * float(np.sqrt(rate[i])), 3)] * horizon}
            for i, s in enumerate(names)
        ])  # fmt: skip
        _insert(conn, ForecastModelRow.__table__, [  # type: ignore[attr-defined]
            {"sku": s, "model": "SeasonalES", "segment": "smooth", "n_obs": sales_days, "mae": 1.0, "rmse": 1.3,
             "wape": 0.4, "mase": 0.8, "naive_mae": 1.3, "naive_wape": 0.5, "naive_mase": 1.0, "q80": 1.3,
             "q95": 2.0, "run_id": "seed", "trained_at": now}
            for s in names
        ])  # fmt: skip
    return names
