"""A replenishment run over the whole catalogue at once: the per-SKU plan (reorder point, safety stock from the
forecast's error, EOQ, ABC / XYZ), alert changes with their digest in the notifications outbox, and proposed
purchase orders. One transaction writes it all, so a retried run rewrites the same rows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.decisions import notifications
from activities.forecasting.sales_repository import insert_ignore
from activities.replenishment import inputs
from activities.replenishment.orders import propose_orders
from activities.replenishment.tables import ReplenishmentPlanRow, StockAlert
from domain.replenishment.alerts import alert_changes, digest_text, firing_alerts
from domain.replenishment.classes import abc_classes, xyz_classes
from domain.replenishment.plan import ReplenishmentSettings as PlanSettings
from domain.replenishment.plan import plan_replenishment, suggestions_by_supplier
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from workflows.replenishment.contract import PlanResult

PLAN = ReplenishmentPlanRow.__table__  # type: ignore[attr-defined]
ALERT = StockAlert.__table__  # type: ignore[attr-defined]


def compute_plan(
    conn: sa.Connection, settings: Settings, *, today: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = settings.replenishment
    items, sups = inputs.items(conn), inputs.suppliers(conn)
    plan_items = items.assign(
        supplier_id=items["supplier_id"].astype(object).where(items["supplier_id"].notna(), None)
    )
    plan = plan_replenishment(
        plan_items, inputs.demand(conn), sups,
        PlanSettings(service_level=cfg.service_level, order_cost=cfg.order_cost, holding_rate=cfg.holding_rate,
                     default_reorder_point=cfg.default_reorder_point,
                     default_order_quantity=cfg.default_order_quantity,
                     default_lead_time_days=cfg.default_lead_time_days),
    )  # fmt: skip
    revenue, weekly = inputs.revenue_and_weekly(conn, today=today)
    plan["abc"] = abc_classes(revenue.reindex(plan["sku"]).fillna(0.0)).to_numpy()
    plan["xyz"] = xyz_classes(weekly).reindex(plan["sku"]).fillna("Z").to_numpy() if len(weekly) else "Z"
    d = plan["demand_per_day"].to_numpy(float)
    plan["days_of_cover"] = np.where(d > 0, plan["on_hand"].to_numpy(float) / np.where(d > 0, d, 1), np.nan)
    return plan, sups


def _supplier_ids(plan: pd.DataFrame) -> pd.Series:
    """Supplier ids as Python ints, None where a SKU has none. Object dtype on purpose: a plain list with a None in
    it becomes float64 (1 -> 1.0 -> '1.0' when grouped as text, NaN into an integer column)."""
    ids = [None if pd.isna(v) else int(v) for v in plan["supplier_id"]]
    return pd.Series(ids, index=plan.index, dtype=object)


def _save_plan(conn: sa.Connection, plan: pd.DataFrame, run_id: str) -> None:
    now = utcnow()
    cols = ["on_hand", "on_order", "demand_per_day", "sigma_per_day", "lead_time_days", "safety_stock",
            "reorder_point", "eoq", "order_qty"]  # fmt: skip
    frame = plan[["sku", *cols, "days_of_cover", "abc", "xyz", "basis"]].copy()
    frame["supplier_id"] = _supplier_ids(plan)
    frame[cols] = frame[cols].astype(float).round(4)
    frame["days_of_cover"] = (
        frame["days_of_cover"].round(2).astype(object).where(frame["days_of_cover"].notna(), None)
    )
    rows = frame.assign(run_id=run_id, computed_at=now).to_dict("records")
    conn.execute(sa.delete(PLAN))  # the plan is the last run's, whole (SKUs gone from the catalogue go too)
    for i in range(0, len(rows), 5000):
        conn.execute(sa.insert(PLAN), rows[i : i + 5000])


def _save_alerts(conn: sa.Connection, changes, run_id: str) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    rows = [
        {"sku": r.sku, "kind": r.kind, "status": "firing", "since": now, "run_id": run_id, "updated_at": now,
         "details": {"on_hand": float(r.on_hand), "threshold": float(r.threshold),
                     "days_of_cover": None if pd.isna(r.days_of_cover) else round(float(r.days_of_cover), 2)}}
        for r in changes.started.itertuples()
    ]  # fmt: skip
    if rows:
        stmt = insert_ignore(conn, ALERT)
        upd = {c: stmt.excluded[c] for c in ("status", "since", "run_id", "updated_at", "details")}
        conn.execute(stmt.on_conflict_do_update(index_elements=["sku", "kind"], set_=upd), rows)
    for r in changes.resolved.itertuples():
        conn.execute(
            sa.update(ALERT).where(ALERT.c.sku == r.sku, ALERT.c.kind == r.kind)
            .values(status="resolved", run_id=run_id, updated_at=now)
        )  # fmt: skip


def run_replenishment(
    engine: sa.Engine, settings: Settings, *, run_id: str, today: date, propose: bool
) -> PlanResult:
    with session_scope(engine) as s:  # plan, alert states, the digest and the POs commit together
        conn = s.connection()
        plan, sups = compute_plan(conn, settings, today=today)
        firing = firing_alerts(
            plan, inputs.thresholds(conn), risk_margin_days=settings.replenishment.risk_margin_days
        )
        changes = alert_changes(firing, inputs.alert_states(conn), scope=pd.Index(plan["sku"]))
        _save_plan(conn, plan, run_id)
        _save_alerts(conn, changes, run_id)
        refs = []
        if propose:
            plan_for_orders = plan.assign(supplier_id=_supplier_ids(plan))
            _, lines = suggestions_by_supplier(
                plan_for_orders, sups.assign(supplier_id=sups["supplier_id"].astype(str))
            )
            refs = propose_orders(conn, lines, sups, run_id=run_id)
        outbox_id = None
        if len(changes.started) or len(changes.resolved):
            # one digest per run: the run id is the dedupe key, so a retried run queues it once
            outbox_id, _ = notifications.enqueue(
                s, dedupe_key=f"stock-alerts:{run_id}", decision_id=None, event="stock_alerts",
                audience="replenishment",
                subject=f"[merchflow] {len(changes.started)} new stock alerts, {len(changes.resolved)} resolved",
                body=digest_text(changes), link=f"{settings.base_url.rstrip('/')}/dashboard",
            )  # fmt: skip
    return PlanResult(
        skus=len(plan), alerts_new=len(changes.started), alerts_resolved=len(changes.resolved), outbox_id=outbox_id,
        purchase_orders=refs,
    )  # fmt: skip
