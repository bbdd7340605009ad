"""Rolling-origin backtest of the demand-forecast pipeline on any sales file, or on generated series.

    # a real file (CSV or .csv.gz; invoice-level rows are aggregated to the frequency)
    .venv/bin/python benchmarks/forecast_backtest.py --sales /tmp/oj_sales.csv.gz --freq W \\
        --date-col date --sku-col sku --qty-col quantity --price-col unit_price --promo-col deal
    # the scale target: 10,000 series x 2 years daily in <= 120 s on 2 cores
    .venv/bin/python benchmarks/forecast_backtest.py --generate 10000 --days 730 --jobs 2

Runs `domain.forecasting.pipeline.run_forecast` exactly as production does: backtest with `--windows` cutoffs,
model choice per series on all windows but the last, every model and the chosen mix scored on the last window
(never seen by the choice). Prints each model's WAPE / MASE / MAE next to seasonal naive, the chosen mix and the
timings; the LAST line is one JSON object (`series`, `rows`, `seconds`, `models`, `selected`, `seasonal_naive`,
`improvement_vs_naive` = 1 - selected WAPE / seasonal-naive WAPE, ...). `seconds` is the pipeline (panel
preparation, backtest, choice, final forecasts); reading or generating the data is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings

import pandas as pd


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--sales", help="sales file: CSV, optionally gzip-compressed")
    src.add_argument(
        "--generate", type=int, metavar="N_SERIES", help="generated daily series instead of a file"
    )
    ap.add_argument("--days", type=int, default=730, help="days per generated series")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--freq", choices=["D", "W"], default="D")
    ap.add_argument("--horizon", type=int, help="periods ahead (default 28 daily, 8 weekly)")
    ap.add_argument("--windows", type=int, default=3, help="backtest cutoffs (>= 2)")
    ap.add_argument("--date-col", default="date")
    ap.add_argument("--sku-col", default="sku")
    ap.add_argument("--qty-col", default="quantity")
    ap.add_argument("--price-col", help="unit price column (optional)")
    ap.add_argument("--promo-col", help="promotion flag column (optional)")
    ap.add_argument("--models", help="comma-separated subset of models (default: all the budget allows)")
    ap.add_argument("--selection", choices=["series", "segment"], default="segment")
    ap.add_argument("--jobs", type=int, default=1, help="processes / threads for the model fits")
    return ap.parse_args()


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the model-fitting worker processes): next to the
    wall-clock seconds, the figure that does not depend on what else the shared machine is running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _read(args: argparse.Namespace) -> pd.DataFrame:
    if args.generate:
        from domain.forecasting.synthetic import generate_sales

        sales = generate_sales(args.generate, args.days, seed=args.seed)
        args.price_col, args.promo_col = args.price_col or "unit_price", args.promo_col or "promo"
        return sales
    cols = [c for c in (args.date_col, args.sku_col, args.qty_col, args.price_col, args.promo_col) if c]
    header = pd.read_csv(args.sales, nrows=0, encoding_errors="replace")
    missing = [c for c in cols if c not in header.columns]
    if missing:
        raise SystemExit(f"{args.sales}: no column(s) {missing}; columns are {list(header.columns)}")
    # ids as text: "85123A" and "085123" stay what the seller calls them
    return pd.read_csv(args.sales, usecols=cols, dtype={args.sku_col: str}, encoding_errors="replace")


def main() -> None:
    args = _args()
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    import statsforecast.models  # noqa: F401  (import cost reported apart from the pipeline)

    from domain.forecasting.frames import prepare_panel
    from domain.forecasting.models import ForecastConfig
    from domain.forecasting.pipeline import run_forecast

    t_import = time.perf_counter()
    sales = _read(args)
    t_read = time.perf_counter()
    cpu_read = _cpu_seconds()
    panel = prepare_panel(
        sales,
        freq=args.freq,
        date_col=args.date_col,
        sku_col=args.sku_col,
        qty_col=args.qty_col,
        price_col=args.price_col,
        promo_col=args.promo_col,
    )
    cfg = ForecastConfig(
        freq=args.freq,
        horizon=args.horizon,
        n_windows=args.windows,
        models=tuple(args.models.split(",")) if args.models else None,
        selection=args.selection,
        n_jobs=args.jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_forecast(panel, cfg)
    t_done = time.perf_counter()
    cpu_pipeline = _cpu_seconds() - cpu_read
    ev = run.evaluation
    if ev is None:
        raise SystemExit("no series is long enough for the backtest; lower --horizon or --windows")
    n_series = int(panel["unique_id"].nunique())
    n_backtested = int(run.backtest["unique_id"].nunique())
    print(f"source               {args.sales or f'generated {args.generate} x {args.days} days'}")
    print(f"sales rows           {len(sales):,}  -> panel rows {len(panel):,} ({args.freq})")
    print(f"series               {n_series:,} ({n_backtested:,} long enough for the backtest)")
    print(
        f"backtest             {cfg.n_windows} cutoffs, horizon {cfg.h}, step {cfg.step_size}; "
        f"choice on the first {cfg.n_windows - 1}, judged on the last ({ev.holdout_cutoff.date()})"
    )
    print(f"{'model':18s} {'series':>7s} {'WAPE':>8s} {'MASE':>8s} {'MAE':>10s}")
    for name, sc in ev.models.items():
        print(f"{name:18s} {ev.series_per_model[name]:7,d} {sc.wape:8.4f} {sc.mase:8.4f} {sc.mae:10.3f}")
    print(
        f"{'selected (' + cfg.selection + ')':18s} {n_backtested:7,d} {ev.selected.wape:8.4f} "
        f"{ev.selected.mase:8.4f} {ev.selected.mae:10.3f}"
    )
    print(f"improvement vs seasonal naive (WAPE)  {ev.improvement_vs_naive:.1%}")
    print("chosen mix           " + ", ".join(f"{k} {v}" for k, v in ev.mix.items()))
    print("interval coverage    " + ", ".join(f"{lv}%: {c:.3f}" for lv, c in ev.coverage.items()))
    print(
        f"seconds              pipeline {t_done - t_read:.1f} (imports {t_import - t0:.1f}, "
        f"read/generate {t_read - t_import:.1f} not included); load average {load_start:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; pipeline CPU {cpu_pipeline:.1f} s"
    )
    print(
        json.dumps(
            {
                "benchmark": "forecast_backtest",
                "source": args.sales or f"generated:{args.generate}x{args.days}d:seed{args.seed}",
                "freq": args.freq,
                "horizon": cfg.h,
                "windows": cfg.n_windows,
                "holdout_cutoff": str(ev.holdout_cutoff.date()),
                "series": n_series,
                "series_backtested": n_backtested,
                "rows": len(sales),
                "panel_rows": len(panel),
                "seconds": round(t_done - t_read, 2),
                "cpu_seconds": round(cpu_pipeline, 2),
                "import_seconds": round(t_import - t0, 2),
                "read_seconds": round(t_read - t_import, 2),
                "models": {
                    k: {**v.as_dict(), "series": ev.series_per_model[k]} for k, v in ev.models.items()
                },
                "selected": ev.selected.as_dict(),
                "seasonal_naive": ev.seasonal_naive.as_dict(),
                "improvement_vs_naive": round(ev.improvement_vs_naive, 4),
                "selection": cfg.selection,
                "mix": ev.mix,
                "coverage": {str(k): round(v, 4) for k, v in ev.coverage.items()},
                "jobs": args.jobs,
                "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
