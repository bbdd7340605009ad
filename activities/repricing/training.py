"""Training data for the demand model: the price in effect and the units sold per SKU and period, from the pricing
history and the sales in the stock ledger; and storing the fitted model with its validation error."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from activities.repricing.convert import parts
from activities.repricing.tables import DemandModelRow, PricingHistory
from activities.stock.tables import StockLedgerEntry
from domain.repricing.demand import DemandModel
from merchflow.db.models import Product

_H = PricingHistory.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
_G = StockLedgerEntry.__table__  # type: ignore[attr-defined]
_M = DemandModelRow.__table__  # type: ignore[attr-defined]


def history_frame(session: Session, *, now: datetime, history_days: int, period_days: int) -> pd.DataFrame:
    """Columns sku, category, period, price, units: one row per SKU sold in the window and period (0 units
    included: weeks without a sale at a high price are what teaches the model)."""
    start = now - timedelta(days=history_days)
    sales = pd.DataFrame(
        session.execute(
            sa.select(_G.c.sku, _G.c.created_at, (-_G.c.quantity).label("units")).where(
                _G.c.kind == "sale", _G.c.created_at >= start, _G.c.created_at < now
            )
        ).all(),
        columns=["sku", "at", "units"],
    )
    if sales.empty:
        return pd.DataFrame(columns=["sku", "category", "period", "price", "units"])
    n_periods = max(1, history_days // period_days)
    span = pd.Timedelta(days=period_days)
    t0 = pd.Timestamp(now) - n_periods * span
    sales["at"] = pd.to_datetime(sales["at"], utc=True)
    sales["period"] = ((sales["at"] - t0) // span).astype(int)
    sales = sales[(sales["period"] >= 0) & (sales["period"] < n_periods)]
    units = sales.groupby(["sku", "period"])["units"].sum()
    skus = sorted(units.index.get_level_values(0).unique())

    cat_rows: list[Any] = []
    change_rows: list[Any] = []
    for part in parts(skus):
        cat_rows += session.execute(
            sa.select(_P.c.sku, _P.c.category, _P.c.price).where(_P.c.sku.in_(part))
        ).all()
        change_rows += session.execute(
            sa.select(_H.c.sku, _H.c.created_at, _H.c.old_price, _H.c.new_price).where(
                _H.c.sku.in_(part), _H.c.created_at < now
            )
        ).all()
    catalog = pd.DataFrame(cat_rows, columns=["sku", "category", "list_price"]).set_index("sku")
    changes = pd.DataFrame(change_rows, columns=["sku", "at", "old_price", "new_price"])
    changes = changes.sort_values("at", kind="stable").reset_index(drop=True)
    grid = pd.MultiIndex.from_product([skus, range(n_periods)], names=["sku", "period"]).to_frame(index=False)
    grid["units"] = units.reindex(pd.MultiIndex.from_frame(grid[["sku", "period"]])).fillna(0).to_numpy()
    grid["mid"] = t0 + (grid["period"] + 0.5) * span
    grid["price"] = catalog["list_price"].reindex(grid["sku"]).map(_f).to_numpy()
    if not changes.empty:
        changes["at"] = pd.to_datetime(changes["at"], utc=True)
        changes["new_price"] = changes["new_price"].map(_f)
        merged = pd.merge_asof(
            grid.sort_values("mid"),
            changes.sort_values("at")[["sku", "at", "new_price"]],
            left_on="mid",
            right_on="at",
            by="sku",
        )
        # before a SKU's first recorded change its price was that change's old price
        first_old = changes.groupby("sku")["old_price"].first().map(_f)
        merged["price"] = merged["new_price"].fillna(merged["sku"].map(first_old)).fillna(merged["price"])
        grid = merged
    # a SKU's history starts at its first sale or price change: the weeks before say nothing about demand
    first = sales.groupby("sku")["period"].min()
    if not changes.empty:
        changed_at = ((changes["at"] - t0) // span).clip(lower=0).astype(int)
        first = pd.concat([first, changed_at.groupby(changes["sku"]).min()]).groupby(level=0).min()
    grid = grid[grid["period"].to_numpy() >= grid["sku"].map(first).fillna(0).to_numpy()]
    grid["category"] = catalog["category"].reindex(grid["sku"]).fillna("").astype(str).to_numpy()
    grid = grid[grid["price"].notna() & (grid["price"] > 0)]
    return grid[["sku", "category", "period", "price", "units"]].reset_index(drop=True)


def _f(v: object) -> float:
    return float("nan") if v is None else float(v)  # type: ignore[arg-type]


def _opt(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def store_model(session: Session, model: DemandModel, *, now: datetime, params: dict[str, float]) -> int:
    """The new model becomes the active one; earlier ones stay for comparison."""
    session.execute(sa.update(_M).where(_M.c.active.is_(True)).values(active=False))
    row = DemandModelRow(
        trained_at=now,
        rows=model.n_rows,
        validation_mae_log=_opt(model.validation_mae_log),
        validation_mape=_opt(model.validation_mape),
        elasticity={k: float(np.round(v, 6)) for k, v in model.elasticity.items()},
        confidence={k: float(np.round(v, 6)) for k, v in model.confidence.items()},
        details={"categories": model.details, **params},
        active=True,
    )
    session.add(row)
    session.flush()
    return int(row.id or 0)
