"""Real retail sales for the forecast and price-response benchmarks: Dominick's Finer Foods orange juice.

Source: the `orangeJuice` data set of the R package bayesm (Rossi, Allenby & McCulloch), shipped by Debian as
`r-cran-bayesm` (GPL-2+). Original provenance: Dominick's Finer Foods scanner data (Chicago, 83 stores, 11
refrigerated orange juice brands, weekly, 1989-1994), published by the James M. Kilts Center for Marketing,
University of Chicago Booth School of Business, for academic research. 106,139 store x brand x week rows with the
log of units sold, the brand's shelf price (US$ per ounce), a deal (in-store display / price-cut) flag and a
feature-advertisement share.

Get the file (it is never committed; only the Debian registry is needed):

    apt-get download r-cran-bayesm && dpkg-deb -x r-cran-bayesm_*.deb /tmp/bayesm
    .venv/bin/python benchmarks/orange_juice_sales.py \\
        --rda /tmp/bayesm/usr/lib/R/site-library/bayesm/data/orangeJuice.rda --out /tmp/oj_sales.csv.gz

Writes one row per store x brand x week: `date` (first day of Dominick's week; week 1 began on Thursday
1989-09-14), `sku` (store-brand), `store`, `brand`, `quantity` (units, exp(logmove) rounded), `unit_price` (per
ounce), `deal` (0/1), `feat` (0..1).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

WEEK_ONE = pd.Timestamp("1989-09-14")  # Dominick's week 1: Thursday 14 Sep 1989 - Wednesday 20 Sep 1989


def orange_juice_sales(rda_path: str) -> pd.DataFrame:
    import rdata

    converted = rdata.conversion.convert(rdata.parser.parse_file(rda_path))
    yx = pd.DataFrame(converted["orangeJuice"]["yx"])
    brand = yx["brand"].astype(int).to_numpy()
    prices = yx[[f"price{b}" for b in range(1, 12)]].to_numpy(float)
    own_price = prices[np.arange(len(yx)), brand - 1]  # each row carries all 11 brands' prices
    return pd.DataFrame(
        {
            "date": (WEEK_ONE + pd.to_timedelta((yx["week"].astype(int) - 1) * 7, unit="D")).dt.date,
            "sku": "S" + yx["store"].astype(int).astype(str) + "-B" + yx["brand"].astype(int).astype(str),
            "store": yx["store"].astype(int).to_numpy(),
            "brand": brand,
            "quantity": np.rint(np.exp(yx["logmove"].to_numpy(float))).astype(np.int64),
            "unit_price": own_price,
            "deal": yx["deal"].astype(int).to_numpy(),
            "feat": yx["feat"].astype(float).to_numpy(),
        }
    ).sort_values(["sku", "date"], kind="stable")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rda", required=True, help="path to bayesm's data/orangeJuice.rda")
    ap.add_argument("--out", required=True, help="CSV to write (.gz compresses)")
    args = ap.parse_args()
    sales = orange_juice_sales(args.rda)
    sales.to_csv(args.out, index=False)
    print(
        json.dumps(
            {
                "rows": len(sales),
                "series": int(sales["sku"].nunique()),
                "first": str(sales["date"].min()),
                "last": str(sales["date"].max()),
                "out": args.out,
            }
        )
    )


if __name__ == "__main__":
    main()
