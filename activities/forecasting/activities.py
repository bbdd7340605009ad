"""Forecast-run activities: start a run (retrain due?), forecast one batch of SKUs (sync: pandas, statsforecast
and LightGBM on the worker's thread pool, never in a workflow), finish the run with its backtest errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from temporalio import activity

from activities.common.heartbeats import heartbeat
from activities.forecasting.forecast_store import (
    load_sales,
    next_skus,
    save_forecasts,
    save_models,
    stored_models,
)
from activities.forecasting.sales_repository import LINE
from activities.forecasting.tables import ForecastRunRow
from domain.forecasting.nightly import forecast_batch
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.forecasting.contract import (
    FinishForecastInput,
    ForecastBatchInput,
    ForecastBatchResult,
    ForecastRunSummary,
    ForecastTotals,
    StartForecastInput,
    StartForecastResult,
)

log = get_logger(__name__)
RUN = ForecastRunRow.__table__  # type: ignore[attr-defined]


class ForecastActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.reader = deps.engine.execution_options(readonly=True)
        self.settings = deps.settings
        self.cfg = deps.settings.forecasting

    def _today(self) -> datetime:
        return datetime.now(ZoneInfo(self.settings.time_zone))

    @activity.defn(name="forecast-start-run")
    def start_run(self, inp: StartForecastInput) -> StartForecastResult:
        today = self._today().date()
        since = today - timedelta(days=self.cfg.history_days)
        with self.engine.begin() as conn:
            last = conn.execute(
                sa.select(sa.func.max(RUN.c.started_at)).where(
                    RUN.c.retrain.is_(True), RUN.c.status == "completed"
                )
            ).scalar()
            retrain = inp.retrain
            if retrain is None:
                retrain = last is None or utcnow() - last >= timedelta(days=self.cfg.retrain_every_days)
            if conn.execute(sa.select(RUN.c.id).where(RUN.c.id == inp.run_id)).first() is None:
                conn.execute(sa.insert(RUN).values(
                    id=inp.run_id, status="running", retrain=retrain, requested_by=inp.requested_by[:100],
                    metrics={}, started_at=utcnow(),
                ))  # fmt: skip
            skus = conn.execute(
                sa.select(sa.func.count(sa.distinct(LINE.c.sku))).where(LINE.c.sold_on >= since)
            ).scalar_one()
        return StartForecastResult(
            retrain=retrain, today=today, batch_size=self.cfg.batch_size, skus=int(skus)
        )

    @activity.defn(name="forecast-batch")
    def forecast_batch(self, inp: ForecastBatchInput) -> ForecastBatchResult:
        since = inp.today - timedelta(days=self.cfg.history_days)
        with self.reader.connect() as conn:
            skus = next_skus(conn, after=inp.after_sku, limit=inp.limit, since=since)
            if not skus:
                return ForecastBatchResult(last_sku=None, done=True, totals=ForecastTotals())
            sales = load_sales(conn, skus, since=since, until=inp.today)
            stored = stored_models(conn, skus)
        heartbeat("loaded")
        out = forecast_batch(
            sales, skus, stored, today=inp.today, horizon=self.cfg.horizon_days, retrain=inp.retrain
        )
        heartbeat("forecast")
        with self.engine.begin() as conn:
            save_models(conn, out.models, run_id=inp.run_id)
            written = save_forecasts(conn, out.forecasts, run_id=inp.run_id)
        totals = ForecastTotals(
            batches=1, skus=written, retrained=out.retrained, short_history=out.short_history,
            abs_err=out.abs_err, naive_abs_err=out.naive_abs_err, abs_y=out.abs_y, points=out.points,
        )  # fmt: skip
        return ForecastBatchResult(last_sku=skus[-1], done=len(skus) < inp.limit, totals=totals)

    @activity.defn(name="forecast-finish-run")
    def finish_run(self, inp: FinishForecastInput) -> ForecastRunSummary:
        t = inp.totals
        wape = t.abs_err / t.abs_y if t.abs_y > 0 else None
        naive = t.naive_abs_err / t.abs_y if t.abs_y > 0 else None
        improvement = 1 - wape / naive if wape is not None and naive else None
        metrics = {"wape": wape, "naive_wape": naive, "improvement_vs_naive": improvement, **t.model_dump()}
        with session_scope(self.engine) as s:
            run = s.get(ForecastRunRow, inp.run_id) or ForecastRunRow(id=inp.run_id)
            run.status, run.error, run.finished_at = inp.status, inp.error, utcnow()
            run.skus, run.batches, run.retrained, run.metrics = t.skus, t.batches, t.retrained, metrics
            s.add(run)
            retrain = run.retrain
        log.info("forecast run finished", run_id=inp.run_id, status=inp.status, skus=t.skus, wape=wape)
        return ForecastRunSummary(
            run_id=inp.run_id, status=inp.status, retrain=retrain, totals=t, wape=wape, naive_wape=naive,
            improvement_vs_naive=improvement,
        )  # fmt: skip
