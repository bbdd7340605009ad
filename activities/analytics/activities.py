"""Analytics activities: the nightly refresh of every precomputed report (sync: pandas, scikit-learn, chart
rendering on the worker's thread pool)."""

from __future__ import annotations

from temporalio import activity

from activities.analytics.refresh import refresh_all
from activities.common.heartbeats import heartbeat
from workers.deps import Deps
from workflows.forecasting.contract import AnalyticsRefreshInput, AnalyticsRefreshResult


class AnalyticsActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.cfg = deps.settings.forecasting

    @activity.defn(name="analytics-refresh")
    def refresh(self, inp: AnalyticsRefreshInput) -> AnalyticsRefreshResult:
        names, skus = refresh_all(
            self.engine, run_id=inp.run_id, today=inp.today, window_days=self.cfg.analytics_window_days,
            segments=self.cfg.customer_segments, beat=heartbeat,
        )  # fmt: skip
        return AnalyticsRefreshResult(snapshots=names, skus=skus)
