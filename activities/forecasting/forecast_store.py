"""Reading sales for a batch of SKUs and storing what a forecast batch produced (models, forecasts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.forecasting.sales_repository import LINE, insert_ignore
from activities.forecasting.tables import ForecastModelRow, ForecastSeriesRow
from merchflow.db.types import utcnow

MODEL = ForecastModelRow.__table__  # type: ignore[attr-defined]
SERIES = ForecastSeriesRow.__table__  # type: ignore[attr-defined]
_IN = 500


def next_skus(conn: sa.Connection, *, after: str, limit: int, since: date) -> list[str]:
    q = (
        sa.select(LINE.c.sku).where(LINE.c.sku > after, LINE.c.sold_on >= since)
        .group_by(LINE.c.sku).order_by(LINE.c.sku).limit(limit)
    )  # fmt: skip
    return list(conn.execute(q).scalars())


def load_sales(conn: sa.Connection, skus: Sequence[str], *, since: date, until: date) -> pd.DataFrame:
    """Rows sku, date, quantity, unit_price of `skus` with since <= date < until."""
    parts = []
    for i in range(0, len(skus), _IN):
        q = sa.select(LINE.c.sku, LINE.c.sold_on, LINE.c.quantity, LINE.c.unit_price).where(
            LINE.c.sku.in_(skus[i : i + _IN]), LINE.c.sold_on >= since, LINE.c.sold_on < until
        )
        parts.append(pd.DataFrame(conn.execute(q).all(), columns=["sku", "date", "quantity", "unit_price"]))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["sku", "date", "quantity"])
    out["unit_price"] = pd.to_numeric(out["unit_price"], errors="coerce").astype(float)
    return out


def stored_models(conn: sa.Connection, skus: Sequence[str]) -> pd.DataFrame:
    rows = []
    for i in range(0, len(skus), _IN):
        rows += conn.execute(
            sa.select(MODEL.c.sku, MODEL.c.model, MODEL.c.q80, MODEL.c.q95).where(
                MODEL.c.sku.in_(skus[i : i + _IN])
            )
        ).all()
    return pd.DataFrame(rows, columns=["sku", "model", "q_80", "q_95"]).set_index("sku")


def _f(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 6)


def save_models(conn: sa.Connection, frame: pd.DataFrame, *, run_id: str) -> None:
    """`frame` index sku: model, segment, n_obs, mae, rmse, wape, mase, naive_*, q_80, q_95."""
    if frame.empty:
        return
    now = utcnow()
    rows = [
        {"sku": sku, "model": r["model"], "segment": r["segment"], "n_obs": int(r["n_obs"]), "run_id": run_id,
         "trained_at": now, **{c: _f(r.get(c)) for c in ("mae", "rmse", "wape", "mase", "naive_mae", "naive_wape",
                                                        "naive_mase")},
         "q80": _f(r.get("q_80")), "q95": _f(r.get("q_95"))}
        for sku, r in frame.iterrows()
    ]  # fmt: skip
    stmt = insert_ignore(conn, MODEL)
    cols = [c for c in rows[0] if c != "sku"]
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["sku"], set_={c: stmt.excluded[c] for c in cols}), rows
    )


def save_forecasts(conn: sa.Connection, forecasts: pd.DataFrame, *, run_id: str) -> int:
    """`forecasts`: unique_id, ds, model, yhat, lo_80, hi_80, lo_95, hi_95 (daily). One row per SKU."""
    if forecasts.empty:
        return 0
    now = utcnow()
    fc = forecasts.sort_values(["unique_id", "ds"], kind="stable")
    rows = []
    for sku, g in fc.groupby("unique_id", sort=False):
        rows.append(
            {"sku": sku, "run_id": run_id, "model": str(g["model"].iloc[0]), "start": g["ds"].iloc[0].date(),
             "updated_at": now, "yhat": _list(g["yhat"]), "lo80": _list(g["lo_80"]), "hi80": _list(g["hi_80"]),
             "lo95": _list(g["lo_95"]), "hi95": _list(g["hi_95"])}
        )  # fmt: skip
    stmt = insert_ignore(conn, SERIES)
    cols = [c for c in rows[0] if c != "sku"]
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["sku"], set_={c: stmt.excluded[c] for c in cols}), rows
    )
    return len(rows)


def _list(s: pd.Series) -> list[float]:
    return [round(float(v), 4) if np.isfinite(v) else 0.0 for v in s.to_numpy(float)]
