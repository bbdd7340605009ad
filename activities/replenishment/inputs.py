"""The frames a replenishment run reads: the catalogue with stock, preferred suppliers and costs, what is on order,
the forecasts' demand and error, revenue and weekly demand for ABC / XYZ, thresholds and alert states."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.forecasting.tables import ForecastModelRow, ForecastSeriesRow, SalesLine
from activities.replenishment.tables import (
    AlertThreshold,
    PurchaseOrder,
    PurchaseOrderLine,
    StockAlert,
    Supplier,
    SupplierItem,
)
from merchflow.db.models import Product, StockLevel
from workflows.replenishment.contract import OPEN_STATUSES

P, L = Product.__table__, StockLevel.__table__  # type: ignore[attr-defined]
SUP, ITEM = Supplier.__table__, SupplierItem.__table__  # type: ignore[attr-defined]
PO, POL = PurchaseOrder.__table__, PurchaseOrderLine.__table__  # type: ignore[attr-defined]
FS, FM, SL = ForecastSeriesRow.__table__, ForecastModelRow.__table__, SalesLine.__table__  # type: ignore[attr-defined]
TH, AL = AlertThreshold.__table__, StockAlert.__table__  # type: ignore[attr-defined]


def _frame(conn: sa.Connection, q: sa.Select, columns: list[str]) -> pd.DataFrame:  # type: ignore[type-arg]
    return pd.DataFrame(conn.execute(q).all(), columns=columns)


def items(conn: sa.Connection) -> pd.DataFrame:
    """sku, category, price, unit_cost (the preferred supplier's, else the catalogue cost), supplier_id,
    on_hand (on hand - reserved), on_order (open PO lines not yet received)."""
    cat = _frame(
        conn,
        sa.select(P.c.sku, P.c.category, P.c.price, P.c.cost, L.c.on_hand, L.c.reserved).select_from(
            P.outerjoin(L, L.c.sku == P.c.sku)
        ),
        ["sku", "category", "price", "cost", "on_hand", "reserved"],
    )
    links = _frame(
        conn,
        sa.select(ITEM.c.sku, ITEM.c.supplier_id, ITEM.c.unit_cost).select_from(ITEM.join(SUP, SUP.c.id == ITEM.c.supplier_id))
        .where(ITEM.c.preferred.is_(True), SUP.c.active.is_(True)).order_by(ITEM.c.sku, ITEM.c.supplier_id),
        ["sku", "supplier_id", "unit_cost"],
    ).drop_duplicates("sku")  # fmt: skip
    on_order = _frame(
        conn,
        sa.select(POL.c.sku, sa.func.sum(POL.c.quantity - POL.c.received))
        .select_from(POL.join(PO, PO.c.id == POL.c.po_id)).where(PO.c.status.in_(OPEN_STATUSES)).group_by(POL.c.sku),
        ["sku", "on_order"],
    )  # fmt: skip
    it = cat.merge(links, on="sku", how="left").merge(on_order, on="sku", how="left")
    it["unit_cost"] = (
        pd.to_numeric(it["unit_cost"], errors="coerce").fillna(pd.to_numeric(it["cost"])).astype(float)
    )
    it["price"] = pd.to_numeric(it["price"], errors="coerce").astype(float)
    it["on_hand"] = (it["on_hand"].fillna(0) - it["reserved"].fillna(0)).clip(lower=0).astype(float)
    it["on_order"] = pd.to_numeric(it["on_order"]).fillna(0.0).astype(float)
    it["supplier_id"] = it["supplier_id"].astype("Int64")
    return it.drop(columns=["cost", "reserved"])


def suppliers(conn: sa.Connection) -> pd.DataFrame:
    s = _frame(
        conn,
        sa.select(SUP.c.id, SUP.c.name, SUP.c.email, SUP.c.lead_time_days, SUP.c.lead_time_std_days, SUP.c.moq,
                  SUP.c.pack_size, SUP.c.currency, SUP.c.order_cost).where(SUP.c.active.is_(True)),
        ["supplier_id", "name", "contact", "lead_time_days", "lead_time_std_days", "moq", "pack_size", "currency",
         "order_cost"],
    )  # fmt: skip
    s["order_cost"] = pd.to_numeric(s["order_cost"], errors="coerce").astype(float)
    return s


def demand(conn: sa.Connection) -> pd.DataFrame:
    """sku, demand_per_day (mean forecast over the horizon), sigma_per_day (the chosen model's backtest RMSE per
    day), has_history (a backtested model: the short-history fallback does not count)."""
    fc = conn.execute(sa.select(FS.c.sku, FS.c.yhat)).all()
    err = dict(conn.execute(sa.select(FM.c.sku, FM.c.rmse)).all())
    skus = [r[0] for r in fc]
    mean = np.array([float(np.mean(r[1])) if r[1] else 0.0 for r in fc])
    rmse = pd.Series([err.get(s) for s in skus], dtype=float)
    return pd.DataFrame(
        {"sku": skus, "demand_per_day": mean, "sigma_per_day": rmse.fillna(0.0).to_numpy(),
         "has_history": rmse.notna().to_numpy()}
    )  # fmt: skip


def revenue_and_weekly(
    conn: sa.Connection, *, today: date, weeks: int = 13
) -> tuple[pd.Series, pd.DataFrame]:
    """Revenue per SKU over the last `weeks` weeks (ABC) and units per SKU and week (XYZ)."""
    since = today - timedelta(weeks=weeks)
    s = _frame(
        conn,
        sa.select(SL.c.sku, SL.c.sold_on, SL.c.quantity, SL.c.unit_price).where(SL.c.sold_on >= since, SL.c.sold_on < today),
        ["sku", "date", "quantity", "unit_price"],
    )  # fmt: skip
    if s.empty:
        return pd.Series(dtype=float), pd.DataFrame(columns=["sku", "y"])
    s["revenue"] = s["quantity"].astype(float) * pd.to_numeric(s["unit_price"], errors="coerce").fillna(0.0)
    revenue = s.groupby("sku")["revenue"].sum()
    s["week"] = ((pd.to_datetime(s["date"]) - pd.Timestamp(since)).dt.days // 7).clip(upper=weeks - 1)
    grid = pd.MultiIndex.from_product([sorted(s["sku"].unique()), range(weeks)], names=["sku", "week"])
    weekly = (
        s.groupby(["sku", "week"])["quantity"].sum().reindex(grid, fill_value=0).rename("y").reset_index()
    )
    return revenue, weekly


def thresholds(conn: sa.Connection) -> pd.DataFrame:
    return _frame(
        conn,
        sa.select(TH.c.scope, TH.c.key, TH.c.low_stock, TH.c.risk_days),
        ["scope", "key", "low_stock", "risk_days"],
    )


def alert_states(conn: sa.Connection) -> pd.DataFrame:
    return _frame(conn, sa.select(AL.c.sku, AL.c.kind, AL.c.status), ["sku", "kind", "status"])
