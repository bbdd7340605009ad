"""Forecasting: sales history (imports and the engine's own orders) and the nightly forecast run, which also
precomputes the analytics and hands over to replenishment."""

from merchflow.features import Feature

FEATURE = Feature(
    name="forecasting",
    workflows=[
        "workflows.forecasting.imports:SalesImportWorkflow",
        "workflows.forecasting.run:ForecastRunWorkflow",
    ],
    activities=[
        "activities.forecasting.sales:SalesActivities",
        "activities.forecasting.activities:ForecastActivities",
    ],
    tables=["activities.forecasting.tables"],
    routers=["api.forecasting.routes:router"],
    schedules="workflows.forecasting.schedules:definitions",
)
