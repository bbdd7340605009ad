"""The nightly analytics: every report of the dashboard and the analytics endpoints computed once over the whole
catalogue, stored as snapshots (JSON + SVG chart) and per-SKU rows, so reading them costs a primary-key lookup."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.analytics import frames
from activities.analytics.tables import AnalyticsSnapshot, SkuAnalytics
from activities.forecasting.sales_repository import insert_ignore
from domain.analytics.aging import aging_buckets
from domain.analytics.charts import aging_chart, projection_chart, top_worst_chart
from domain.analytics.customers import rfm, segment_customers
from domain.analytics.performance import channel_comparison, sku_performance, top_and_worst
from domain.analytics.projection import revenue_projection
from domain.analytics.stock import sell_through, stockout_days
from merchflow.db.types import utcnow

SNAP, SKU = AnalyticsSnapshot.__table__, SkuAnalytics.__table__  # type: ignore[attr-defined]


def clean(value: Any) -> Any:
    """JSON-safe: NaN / inf -> None, numpy scalars -> Python, timestamps -> ISO dates."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 4)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return clean(frame.to_dict("records"))  # type: ignore[no-any-return]


def save_snapshot(
    conn: sa.Connection, name: str, run_id: str, payload: dict[str, Any], svg: str | None
) -> None:
    row = {"name": name, "run_id": run_id, "payload": clean(payload), "svg": svg, "computed_at": utcnow()}
    stmt = insert_ignore(conn, SNAP)
    cols = ("run_id", "payload", "svg", "computed_at")
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={c: stmt.excluded[c] for c in cols}), row
    )


def refresh_all(
    engine: sa.Engine,
    *,
    run_id: str,
    today: date,
    window_days: int,
    segments: int,
    beat: Callable[[str], None],
) -> tuple[list[str], int]:
    since = today - timedelta(days=window_days)
    with engine.execution_options(readonly=True).connect() as conn:
        cat = frames.catalog(conn)
        costs = cat.set_index("sku")["unit_cost"]
        window = frames.sales(conn, since=since, until=today, costs=costs)
        year = frames.sales(conn, since=today - timedelta(days=365), until=today, costs=costs)
        ledger = frames.ledger(conn)
        fc = frames.forecasts_long(conn, days=30)
    beat("read")
    snaps: dict[str, tuple[dict[str, Any], str | None]] = {}
    perf = sku_performance(window, days=window_days, catalog=pd.Index(cat["sku"], name="sku"))
    tw = top_and_worst(perf)
    payload = {m: {k: records(v) for k, v in d.items()} for m, d in tw.items()}
    svg = top_worst_chart(payload["revenue"]["top"], payload["revenue"]["worst"], "revenue")
    snaps["top_worst"] = ({"window_days": window_days, **payload}, svg)
    chans = channel_comparison(window) if len(window) else pd.DataFrame()
    snaps["channels"] = ({"window_days": window_days, "channels": records(chans)}, None)
    on_hand = cat.set_index("sku")["on_hand"].astype(float)
    lots = frames.lots(ledger, on_hand[on_hand > 0]).merge(cat[["sku", "unit_cost"]], on="sku", how="left")
    aging = aging_buckets(lots.fillna({"unit_cost": 0.0}), perf["velocity"], today=today)
    rows = records(aging)
    snaps["aging"] = ({"buckets": rows, "total_value": float(aging["value"].sum()),
                       "value_at_risk": float(aging["value_at_risk"].sum())}, aging_chart(rows))  # fmt: skip
    beat("aging")
    if len(fc) and fc["ds"].nunique() >= 30:
        proj = revenue_projection(fc, cat.set_index("sku")["price"].fillna(0.0), days=30, level=80)
        daily = records(proj.daily)
        snaps["projection"] = (
            {"days": proj.days, "level": proj.level, "expected": proj.expected, "low": proj.low, "high": proj.high,
             "daily": daily},
            projection_chart(daily, f"Revenue, next 30 days (80 % interval): {proj.expected:,.0f}"),
        )  # fmt: skip
    levels = frames.daily_levels(ledger, since=since, until=today)
    so = (
        stockout_days(levels)
        if len(levels)
        else pd.DataFrame(columns=["days", "stockout_days", "stockout_share"])
    )
    opening = (
        levels[levels["date"] == pd.Timestamp(since)].set_index("sku")["on_hand"]
        if len(levels)
        else pd.Series(dtype=float)
    )
    in_window = ledger[(ledger["day"] >= pd.Timestamp(since)) & (ledger["day"] < pd.Timestamp(today))]
    received = in_window[in_window["kind"] == "receipt"].groupby("sku")["quantity"].sum()
    st = sell_through(perf["units"].clip(lower=0), opening.clip(lower=0), received)
    snaps["stock"] = ({
        "window_days": window_days,
        "sell_through": float(perf["units"].clip(lower=0).sum() / max(float(opening.clip(lower=0).sum() + received.sum()), 1e-9)),
        "stockout_days": int(so["stockout_days"].sum()) if len(so) else 0,
        "skus_with_stockouts": int((so["stockout_days"] > 0).sum()) if len(so) else 0,
    }, None)  # fmt: skip
    beat("stock")
    buyers = year.dropna(subset=["buyer"])
    if buyers["buyer"].nunique() >= segments:
        orders = buyers.assign(revenue=buyers["quantity"] * buyers["unit_price"])[
            ["buyer", "order_id", "date", "revenue"]
        ]
        table, summary = segment_customers(rfm(orders, today=today), k=segments)
        snaps["customers"] = ({"buyers": len(table), "segments": records(summary),
                               "rfm_cells": records(table.groupby(["r_score", "f_score", "m_score"]).size()
                                                    .rename("buyers").reset_index())}, None)  # fmt: skip
    per_sku = pd.DataFrame({"sku": perf.index, "units": perf["units"].to_numpy(float),
                            "revenue": perf["revenue"].to_numpy(float), "margin": perf["margin"].to_numpy(float),
                            "velocity": perf["velocity"].to_numpy(float)})  # fmt: skip
    per_sku["sell_through"] = per_sku["sku"].map(st)
    per_sku["stockout_days"] = (
        per_sku["sku"].map(so["stockout_days"] if len(so) else {}).fillna(0).astype(int)
    )
    per_sku["days"] = per_sku["sku"].map(so["days"] if len(so) else {}).fillna(0).astype(int)
    per_sku["on_hand"] = per_sku["sku"].map(on_hand).fillna(0).astype(int)
    with engine.begin() as conn:
        for name, (payload, svg) in snaps.items():
            save_snapshot(conn, name, run_id, payload, svg)
        conn.execute(sa.delete(SKU))
        rows_out = clean(per_sku.assign(run_id=run_id, computed_at=None).to_dict("records"))
        now = utcnow()
        for r in rows_out:
            r["computed_at"] = now
        for i in range(0, len(rows_out), 5000):
            conn.execute(sa.insert(SKU), rows_out[i : i + 5000])
    return sorted(snaps), len(per_sku)
