"""Stock alerts: thresholds per SKU / category, and dedupe - one digest per run, an alert announced when it
starts and when it resolves, never in between."""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from activities.decisions.tables import NotificationOutbox
from activities.forecasting.tables import ForecastModelRow, ForecastSeriesRow
from activities.replenishment.planning import run_replenishment
from activities.replenishment.tables import AlertThreshold, StockAlert
from domain.replenishment.alerts import alert_changes, firing_alerts
from merchflow.db.engine import session_scope
from merchflow.db.models import Product, StockLevel
from merchflow.settings import Settings


def _plan(**cols: list) -> pd.DataFrame:  # type: ignore[type-arg]
    base = {"sku": ["A", "B", "C"], "category": ["mugs", "mugs", "tees"], "on_hand": [5.0, 50.0, 30.0],
            "reorder_point": [10.0, 10.0, 10.0], "demand_per_day": [1.0, 10.0, 0.0], "lead_time_days": [7.0] * 3}  # fmt: skip
    return pd.DataFrame({**base, **cols})


def test_thresholds_sku_beats_category_beats_reorder_point() -> None:
    none = pd.DataFrame(columns=["scope", "key", "low_stock", "risk_days"])
    fired = firing_alerts(_plan(), none)
    assert set(zip(fired["sku"], fired["kind"], strict=True)) == {("A", "low_stock"), ("A", "stockout_risk"),
                                                                    ("B", "stockout_risk")}  # fmt: skip
    th = pd.DataFrame({"scope": ["category", "sku"], "key": ["mugs", "A"], "low_stock": [60, 1],
                       "risk_days": [None, 2.0]})  # fmt: skip
    fired = firing_alerts(_plan(), th)
    # B (mugs, 50 <= 60) is low by its category; A's own threshold (1) wins over the category's; A has 5 days of
    # cover, over its own risk horizon of 2
    assert set(zip(fired["sku"], fired["kind"], strict=True)) == {("B", "low_stock"), ("B", "stockout_risk")}


def test_changes_announce_starts_and_ends_only() -> None:
    firing = pd.DataFrame({"sku": ["A", "B"], "kind": ["low_stock"] * 2, "on_hand": [1.0, 2.0],
                           "threshold": [5.0, 5.0], "days_of_cover": [None, None]})  # fmt: skip
    prev = pd.DataFrame(
        {"sku": ["A", "C", "D"], "kind": ["low_stock"] * 3, "status": ["firing", "firing", "resolved"]}
    )
    ch = alert_changes(firing, prev, scope=pd.Index(["A", "B", "C"]))
    assert list(ch.started["sku"]) == ["B"] and list(ch.resolved["sku"]) == ["C"] and ch.still == 1


def _seed(engine: sa.Engine, on_hand: int) -> None:
    with session_scope(engine) as s:
        if s.get(StockLevel, "AL-1") is None:
            s.add(Product(sku="AL-1", name="mug", cost=4, price=10, category="mugs"))
            s.add(ForecastSeriesRow(sku="AL-1", run_id="r", model="Naive", start=date(2026, 1, 1), yhat=[3.0] * 30,
                                    lo80=[2.0] * 30, hi80=[4.0] * 30, lo95=[1.0] * 30, hi95=[5.0] * 30))  # fmt: skip
            s.add(ForecastModelRow(sku="AL-1", model="Naive", segment="smooth", rmse=1.0, run_id="r"))
            s.add(AlertThreshold(scope="category", key="mugs", low_stock=20))
        level = s.get(StockLevel, "AL-1") or StockLevel(sku="AL-1")
        level.on_hand = on_hand
        s.add(level)


def test_runs_dedupe_alerts_and_queue_one_digest_each(engine: sa.Engine, tmp_settings: Settings) -> None:
    today = date(2026, 1, 1)
    _seed(engine, on_hand=5)
    first = run_replenishment(engine, tmp_settings, run_id="run-1", today=today, propose=False)
    assert first.alerts_new == 2 and first.outbox_id is not None  # low stock (<= 20) and stock-out risk
    again = run_replenishment(engine, tmp_settings, run_id="run-1", today=today, propose=False)
    assert again.alerts_new == 0 and again.outbox_id is None  # a retried run queues nothing new
    second = run_replenishment(engine, tmp_settings, run_id="run-2", today=today, propose=False)
    assert (second.alerts_new, second.alerts_resolved, second.outbox_id) == (0, 0, None)  # still low: silence
    _seed(engine, on_hand=500)
    third = run_replenishment(engine, tmp_settings, run_id="run-3", today=today, propose=False)
    assert third.alerts_resolved == 2 and third.outbox_id is not None
    with session_scope(engine) as s:
        notices = s.execute(sa.select(NotificationOutbox).order_by(NotificationOutbox.id)).scalars().all()  # type: ignore[arg-type]
        assert [n.dedupe_key for n in notices] == ["stock-alerts:run-1", "stock-alerts:run-3"]
        assert "low stock: AL-1 has 5 on hand (threshold 20" in notices[0].body
        assert "resolved low stock: AL-1" in notices[1].body
        assert {a.status for a in s.execute(sa.select(StockAlert)).scalars()} == {"resolved"}
