"""Analytics: aging, top / worst, revenue projection, channels, sell-through, stock-outs and customer segments as
JSON and CSV, and the read-only dashboard. Computed by the nightly forecast run (its `analytics-refresh` step)."""

from merchflow.features import Feature

FEATURE = Feature(
    name="analytics",
    activities=["activities.analytics.activities:AnalyticsActivities"],
    tables=["activities.analytics.tables"],
    routers=["api.analytics.routes:router", "api.analytics.dashboard:router"],
    templates="api.analytics",
)
