"""What the analytics read, as frames: recent sales with costs, the stock ledger turned into lots and daily
closing levels, the latest forecasts in long form, buyers' orders."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.forecasting.tables import ForecastSeriesRow, SalesLine
from activities.stock.tables import StockLedgerEntry
from merchflow.db.models import Product, StockLevel

SL, FS = SalesLine.__table__, ForecastSeriesRow.__table__  # type: ignore[attr-defined]
P, L, G = Product.__table__, StockLevel.__table__, StockLedgerEntry.__table__  # type: ignore[attr-defined]


def catalog(conn: sa.Connection) -> pd.DataFrame:
    """sku, category, price, unit_cost, on_hand."""
    rows = conn.execute(
        sa.select(P.c.sku, P.c.category, P.c.price, P.c.cost, L.c.on_hand).select_from(
            P.outerjoin(L, L.c.sku == P.c.sku)
        )
    ).all()
    c = pd.DataFrame(rows, columns=["sku", "category", "price", "unit_cost", "on_hand"])
    c["price"] = pd.to_numeric(c["price"], errors="coerce").astype(float)
    c["unit_cost"] = pd.to_numeric(c["unit_cost"], errors="coerce").astype(float)
    c["on_hand"] = c["on_hand"].fillna(0).astype(int)
    return c


def sales(conn: sa.Connection, *, since: date, until: date, costs: pd.Series) -> pd.DataFrame:
    """date, sku, quantity, unit_price, unit_cost, channel, order_id, buyer (a line without a price: the list
    price is unknown to it and counts no revenue)."""
    rows = conn.execute(
        sa.select(SL.c.sold_on, SL.c.sku, SL.c.quantity, SL.c.unit_price, SL.c.channel, SL.c.order_ref, SL.c.buyer,
                  SL.c.line_key)
        .where(SL.c.sold_on >= since, SL.c.sold_on < until)
    ).all()  # fmt: skip
    s = pd.DataFrame(
        rows, columns=["date", "sku", "quantity", "unit_price", "channel", "order_id", "buyer", "key"]
    )
    s["unit_price"] = pd.to_numeric(s["unit_price"], errors="coerce").fillna(0.0).astype(float)
    s["unit_cost"] = s["sku"].map(costs).astype(float)
    s["channel"] = s["channel"].fillna("(none)")
    s["order_id"] = s["order_id"].fillna(s["key"])  # a line without an order number is an order of its own
    return s.drop(columns="key")


def ledger(conn: sa.Connection) -> pd.DataFrame:
    """Every stock movement (the running sum per SKU is its on-hand history)."""
    rows = conn.execute(sa.select(G.c.sku, G.c.kind, G.c.quantity, G.c.created_at)).all()
    g = pd.DataFrame(rows, columns=["sku", "kind", "quantity", "at"])
    g["quantity"] = g["quantity"].astype(float)
    g["day"] = pd.to_datetime(g["at"], utc=True).dt.tz_localize(None).dt.normalize()
    return g


def lots(ledger_rows: pd.DataFrame, on_hand: pd.Series) -> pd.DataFrame:
    """What is on hand as lots by receipt date, first-in first-out: the newest receipts that add up to the stock on
    hand (older units were sold first). Stock with no receipt behind it counts as received on the first day seen."""
    rec = ledger_rows[ledger_rows["kind"].isin(["receipt", "return"]) & (ledger_rows["quantity"] > 0)]
    rec = rec.sort_values(["sku", "at"], ascending=[True, False], kind="stable")
    have = rec["sku"].map(on_hand).fillna(0).to_numpy(float)
    newer = rec.groupby("sku", sort=False)["quantity"].cumsum().to_numpy(float) - rec["quantity"].to_numpy(
        float
    )
    keep = np.clip(have - newer, 0, rec["quantity"].to_numpy(float))
    out = pd.DataFrame({"sku": rec["sku"].to_numpy(), "received_on": rec["day"].to_numpy(), "quantity": keep})
    out = out[out["quantity"] > 0]
    covered = out.groupby("sku")["quantity"].sum()
    rest = (on_hand - covered.reindex(on_hand.index).fillna(0)).clip(lower=0)
    rest = rest[rest > 0]
    if len(rest):
        first = ledger_rows.groupby("sku")["day"].min()
        extra = pd.DataFrame(
            {"sku": rest.index, "received_on": rest.index.map(first), "quantity": rest.to_numpy()}
        )
        out = pd.concat([out, extra.dropna(subset=["received_on"])], ignore_index=True)
    return out


def daily_levels(ledger_rows: pd.DataFrame, *, since: date, until: date) -> pd.DataFrame:
    """Closing on-hand per SKU and day in [since, until): the ledger's running sum (it starts at zero), for SKUs
    with any ledger history before `until`."""
    g = ledger_rows[ledger_rows["day"] < pd.Timestamp(until)]
    if g.empty:
        return pd.DataFrame(columns=["sku", "date", "on_hand"])
    days = pd.date_range(since, pd.Timestamp(until) - pd.Timedelta(days=1), freq="D")
    skus, codes = np.unique(g["sku"].to_numpy(), return_inverse=True)
    # movements before the window fold into its first day; each later day adds its own
    idx = np.clip((g["day"] - pd.Timestamp(since)).dt.days.to_numpy(), 0, len(days) - 1)
    grid = np.zeros((len(skus), len(days)))
    np.add.at(grid, (codes, idx), g["quantity"].to_numpy(float))
    level = grid.cumsum(axis=1)
    first_day = g.groupby(codes)["day"].min().to_numpy()
    seen = days.to_numpy()[None, :] >= first_day.astype("datetime64[ns]")[:, None].astype("datetime64[D]")
    out = pd.DataFrame({"sku": np.repeat(skus, len(days)), "date": np.tile(days.to_numpy(), len(skus)),
                        "on_hand": level.ravel()})  # fmt: skip
    return out[seen.ravel()]


def forecasts_long(conn: sa.Connection, *, days: int) -> pd.DataFrame:
    """unique_id, ds, yhat, lo_80, hi_80 for the first `days` days of every stored forecast."""
    rows = conn.execute(sa.select(FS.c.sku, FS.c.start, FS.c.yhat, FS.c.lo80, FS.c.hi80)).all()
    if not rows:
        return pd.DataFrame(columns=["unique_id", "ds", "yhat", "lo_80", "hi_80"])
    n = np.array([min(len(r[2]), days) for r in rows])
    ids = np.repeat([r[0] for r in rows], n)
    starts = np.repeat(np.array([np.datetime64(r[1], "D") for r in rows]), n)
    offsets = np.concatenate([np.arange(k) for k in n]).astype("timedelta64[D]")

    def col(i: int) -> np.ndarray:
        return np.concatenate([np.asarray(r[i][:k], dtype=float) for r, k in zip(rows, n, strict=True)])

    return pd.DataFrame({"unique_id": ids, "ds": pd.to_datetime(starts + offsets), "yhat": col(2), "lo_80": col(3),
                         "hi_80": col(4)})  # fmt: skip
