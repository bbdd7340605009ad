"""The repricing Temporal Schedules (registered in merchflow.schedules.DEFINITIONS): the nightly run and the weekly
demand-model retrain, both cron specs in settings.time_zone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.client import ScheduleSpec

from merchflow.settings import Settings

if TYPE_CHECKING:  # merchflow.schedules imports this module: ScheduleDef is imported when called
    from merchflow.schedules import ScheduleDef

NIGHTLY_ID = "reprice-nightly"
RETRAIN_ID = "demand-model-weekly"


def nightly(settings: Settings) -> list[ScheduleDef]:
    from activities.repricing_payloads import RepriceRunInput
    from merchflow.schedules import ScheduleDef

    spec = ScheduleSpec(cron_expressions=[settings.reprice_cron], time_zone_name=settings.time_zone)
    return [
        ScheduleDef(NIGHTLY_ID, "reprice-run", RepriceRunInput(dry_run=False, requested_by="schedule"), spec)
    ]


def retrain(settings: Settings) -> list[ScheduleDef]:
    from activities.repricing_payloads import TrainInput
    from merchflow.schedules import ScheduleDef

    spec = ScheduleSpec(cron_expressions=[settings.repricing.retrain_cron], time_zone_name=settings.time_zone)
    return [ScheduleDef(RETRAIN_ID, "demand-model-train", TrainInput(), spec)]
