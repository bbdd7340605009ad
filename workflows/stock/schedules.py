"""The stock process's Temporal Schedules: the periodic full reconcile and the order poll (webhooks' safety net)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import ScheduleIntervalSpec, ScheduleSpec

from merchflow.schedules import ScheduleDef
from merchflow.settings import Settings
from workflows.stock.contract import (
    ORDER_POLL_ALL_WORKFLOW,
    ORDER_POLL_SCHEDULE_ID,
    RECONCILE_SCHEDULE_ID,
    RECONCILE_WORKFLOW,
    OrderPollAllInput,
    ReconcileInput,
)


def every(minutes: int) -> ScheduleSpec:
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=minutes))])


def definitions(settings: Settings) -> list[ScheduleDef]:
    return [
        ScheduleDef(
            RECONCILE_SCHEDULE_ID,
            RECONCILE_WORKFLOW,
            ReconcileInput(),
            every(settings.reconcile_every_minutes),
        ),
        ScheduleDef(
            ORDER_POLL_SCHEDULE_ID,
            ORDER_POLL_ALL_WORKFLOW,
            OrderPollAllInput(),
            every(settings.order_poll_every_minutes),
        ),
    ]
