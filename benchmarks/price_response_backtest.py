"""Out-of-sample check of the repricing demand model on real price variation.

    .venv/bin/python benchmarks/price_response_backtest.py --sales /tmp/oj_sales.csv.gz --freq W \\
        --price-col unit_price --category-col brand --observed-only

Aggregates the sales to the frequency (as the forecast benchmark does), fits `domain.repricing.demand`'s model on
the first 80 % of each series' periods and predicts the last 20 % at the realised prices; the baseline predicts
the same rows without prices. Both errors use the model's own measure (MAE of log(1 + units)), WAPE of units
beside it. The LAST line is one JSON object with `model_error`, `baseline_error`, `elasticities`, ...

`--observed-only` keeps only the periods that have sales rows: for store panels whose missing weeks are gaps in
reporting, not weeks without sales (the forecast panel counts a missing period as zero sales).
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sales", required=True, help="sales file: CSV, optionally gzip-compressed")
    ap.add_argument("--price-col", required=True)
    ap.add_argument("--freq", choices=["D", "W"], default="W")
    ap.add_argument("--date-col", default="date")
    ap.add_argument("--sku-col", default="sku")
    ap.add_argument("--qty-col", default="quantity")
    ap.add_argument("--category-col", help="one elasticity per category (default: one for all series)")
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--observed-only", action="store_true", help="drop periods without sales rows")
    args = ap.parse_args()

    from domain.forecasting.frames import period_start, prepare_panel
    from domain.forecasting.price_response import history_from_panel, price_response_backtest

    t0 = time.perf_counter()
    cols = [c for c in (args.date_col, args.sku_col, args.qty_col, args.price_col, args.category_col) if c]
    sales = pd.read_csv(args.sales, usecols=cols, dtype={args.sku_col: str}, encoding_errors="replace")
    panel = prepare_panel(
        sales,
        freq=args.freq,
        date_col=args.date_col,
        sku_col=args.sku_col,
        qty_col=args.qty_col,
        price_col=args.price_col,
    )
    if args.observed_only:
        observed = pd.MultiIndex.from_arrays(
            [sales[args.sku_col].astype(str), period_start(pd.to_datetime(sales[args.date_col]), args.freq)]
        )
        panel = panel[pd.MultiIndex.from_frame(panel[["unique_id", "ds"]]).isin(observed)]
    categories = None
    if args.category_col:
        categories = sales.groupby(sales[args.sku_col].astype(str))[args.category_col].first().astype(str)
    history = history_from_panel(panel, categories)
    report = price_response_backtest(history, holdout=args.holdout)
    seconds = time.perf_counter() - t0
    model = report.model
    print(f"source               {args.sales}")
    print(
        f"series               {report.series:,}; history rows {len(history):,} (train {report.train_rows:,}, "
        f"held out {report.test_rows:,} scored)"
    )
    print(f"{'':20s} {'MAE log(1+units)':>18s} {'WAPE units':>12s}")
    print(f"{'demand model':20s} {report.model_error:18.4f} {report.model_wape:12.4f}")
    print(f"{'no-price baseline':20s} {report.baseline_error:18.4f} {report.baseline_wape:12.4f}")
    print(f"improvement          {report.improvement:.1%} (MAE of log units)")
    for cat, e in sorted(model.elasticity.items()):
        print(
            f"elasticity {cat:>10s}  {e:7.3f}  (confidence {model.confidence[cat]:.2f}, "
            f"stderr {model.details[cat]['stderr']:.3f})"
        )
    if report.categories_without_elasticity:
        print(f"no elasticity (too few rows or no price variation): {report.categories_without_elasticity}")
    print(
        json.dumps(
            {
                "benchmark": "price_response_backtest",
                "source": args.sales,
                "freq": args.freq,
                "series": report.series,
                "rows": len(sales),
                "history_rows": len(history),
                "train_rows": report.train_rows,
                "test_rows": report.test_rows,
                "error_measure": "MAE of log(1 + units) on the last 20% of each series' periods",
                "model_error": round(report.model_error, 4),
                "baseline_error": round(report.baseline_error, 4),
                "improvement": round(report.improvement, 4),
                "model_wape": round(report.model_wape, 4),
                "baseline_wape": round(report.baseline_wape, 4),
                "elasticities": {k: round(v, 4) for k, v in sorted(model.elasticity.items())},
                "confidence": {k: round(v, 3) for k, v in sorted(model.confidence.items())},
                "categories_without_elasticity": report.categories_without_elasticity,
                "seconds": round(seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
