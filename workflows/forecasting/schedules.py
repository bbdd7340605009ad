"""The forecasting process's Temporal Schedule: the nightly forecast run (a cron in settings.time_zone)."""

from __future__ import annotations

from temporalio.client import ScheduleSpec

from merchflow.schedules import ScheduleDef
from merchflow.settings import Settings
from workflows.forecasting.contract import FORECAST_RUN_WORKFLOW, NIGHTLY_SCHEDULE_ID, ForecastRunInput


def definitions(settings: Settings) -> list[ScheduleDef]:
    spec = ScheduleSpec(cron_expressions=[settings.forecasting.run_cron], time_zone_name=settings.time_zone)
    return [
        ScheduleDef(
            NIGHTLY_SCHEDULE_ID, FORECAST_RUN_WORKFLOW, ForecastRunInput(requested_by="schedule"), spec
        )
    ]
