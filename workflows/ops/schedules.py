"""The operators' Temporal Schedules: alert checks, daily housekeeping, the outbox re-sender."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import ScheduleIntervalSpec, ScheduleSpec

from merchflow.schedules import ScheduleDef
from merchflow.settings import Settings


def definitions(settings: Settings) -> list[ScheduleDef]:
    from workflows.ops.contract import (
        ALERTS_WORKFLOW,
        HOUSEKEEPING_WORKFLOW,
        RESEND_WORKFLOW,
        AlertCheckInput,
        HousekeepingInput,
        ResendInput,
    )

    defs = []
    if settings.alerts.enabled:
        every = timedelta(minutes=settings.alerts.check_every_minutes)
        defs.append(
            ScheduleDef(
                ALERTS_WORKFLOW,
                ALERTS_WORKFLOW,
                AlertCheckInput(),
                ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
            )
        )
    r = settings.retention
    if r.enabled:
        defs.append(
            ScheduleDef(
                HOUSEKEEPING_WORKFLOW,
                HOUSEKEEPING_WORKFLOW,
                HousekeepingInput(),
                ScheduleSpec(cron_expressions=[r.housekeeping_cron], time_zone_name=settings.time_zone),
            )
        )
        defs.append(
            ScheduleDef(
                RESEND_WORKFLOW,
                RESEND_WORKFLOW,
                ResendInput(),
                ScheduleSpec(
                    intervals=[ScheduleIntervalSpec(every=timedelta(minutes=r.resend_every_minutes))]
                ),
            )
        )
    return defs
