"""The repricing process's Temporal Schedules: the nightly run and the weekly demand-model retrain, both cron specs
in settings.time_zone."""

from __future__ import annotations

from temporalio.client import ScheduleSpec

from merchflow.schedules import ScheduleDef
from merchflow.settings import Settings
from workflows.repricing.contract import (
    NIGHTLY_SCHEDULE_ID,
    RETRAIN_SCHEDULE_ID,
    RUN_WORKFLOW,
    TRAIN_WORKFLOW,
    RepriceRunInput,
    TrainInput,
)


def definitions(settings: Settings) -> list[ScheduleDef]:
    nightly = ScheduleSpec(cron_expressions=[settings.reprice_cron], time_zone_name=settings.time_zone)
    retrain = ScheduleSpec(
        cron_expressions=[settings.repricing.retrain_cron], time_zone_name=settings.time_zone
    )
    return [
        ScheduleDef(
            NIGHTLY_SCHEDULE_ID,
            RUN_WORKFLOW,
            RepriceRunInput(dry_run=False, requested_by="schedule"),
            nightly,
        ),
        ScheduleDef(RETRAIN_SCHEDULE_ID, TRAIN_WORKFLOW, TrainInput(), retrain),
    ]
