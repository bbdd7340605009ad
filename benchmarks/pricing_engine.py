"""Benchmark: price suggestions for N SKUs with synthetic sales history (demand model fit + rules + constraints).

    .venv/bin/python benchmarks/pricing_engine.py --skus 1000000

Prints phase timings and, as the last line, one JSON object. Target: <= 60 s for 1M SKUs on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import date

import numpy as np
import pandas as pd

from domain.repricing.config import PricingConfig
from domain.repricing.demand import fit_demand_model, synthetic_history
from domain.repricing.engine import suggest_prices

CATEGORIES = ["Electronics", "Home & Kitchen", "Books", "Sports", "Toys & Games", "Garden", "Accessories"]
TRUE_ELASTICITY = dict(zip(CATEGORIES, [-2.8, -1.9, -1.4, -2.2, -2.5, -1.7, -2.0], strict=True))


def catalog(n: int, rng: np.random.Generator) -> pd.DataFrame:
    cost = np.round(rng.lognormal(2.5, 0.8, n), 2)
    price = np.round(cost * rng.uniform(1.3, 2.6, n), 2)
    has_comp = rng.random(n) < 0.6
    comp_min = np.where(has_comp, np.round(price * rng.uniform(0.8, 1.15, n), 2), np.nan)
    return pd.DataFrame(
        {
            "sku": np.char.add("SKU-", np.arange(n).astype(str)),
            "category": rng.choice(CATEGORIES, n),
            "cost": cost,
            "price": price,
            "reference_price": price,
            "fee_rate": rng.choice([0.08, 0.12, 0.15], n),
            "fee_fixed": rng.choice([0.0, 0.30], n),
            "age_days": rng.integers(0, 400, n),
            "stock": rng.integers(0, 600, n),
            "competitor_min": comp_min,
            "competitor_max": np.where(has_comp, np.round(comp_min * rng.uniform(1.0, 1.4, n), 2), np.nan),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skus", type=int, default=1_000_000)
    ap.add_argument(
        "--periods", type=int, default=8, help="history periods per SKU used to fit the demand model"
    )
    ap.add_argument("--history-skus", type=int, default=250_000, help="SKUs whose history trains the model")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    cat = catalog(args.skus, rng)
    sample = cat.sample(n=min(args.history_skus, args.skus), random_state=args.seed)
    history = synthetic_history(sample, periods=args.periods, rng=rng, elasticity=TRUE_ELASTICITY)
    t_data = time.perf_counter()
    model = fit_demand_model(history)
    t_fit = time.perf_counter()
    cat["elasticity"], cat["model_confidence"] = model.for_categories(cat["category"])
    out = suggest_prices(cat, PricingConfig(), today=date(2026, 11, 21))
    t_suggest = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    changed = int(out["changed"].sum())
    print(f"SKUs                 {args.skus:,}")
    print(f"history rows         {len(history):,}")
    print(f"synthetic data       {t_data - t0:6.2f} s (not part of the engine)")
    print(
        f"demand model fit     {t_fit - t_data:6.2f} s   validation MAE(log units) {model.validation_mae_log:.3f}"
    )
    print(f"suggestions          {t_suggest - t_fit:6.2f} s   changed {changed:,}")
    print(f"engine total         {t_suggest - t_data:6.2f} s   peak RSS {peak_mb:,.0f} MB")
    print(
        json.dumps(
            {
                "benchmark": "pricing_engine",
                "skus": args.skus,
                "history_rows": len(history),
                "fit_seconds": round(t_fit - t_data, 2),
                "suggest_seconds": round(t_suggest - t_fit, 2),
                "engine_seconds": round(t_suggest - t_data, 2),
                "skus_per_second": round(args.skus / (t_suggest - t_data)),
                "peak_rss_mb": round(peak_mb),
                "changed": changed,
                "validation_mae_log": round(model.validation_mae_log, 4),
                "elasticity": {k: round(v, 3) for k, v in model.elasticity.items()},
                "target_seconds": 60,
            }
        )
    )


if __name__ == "__main__":
    main()
