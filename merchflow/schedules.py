"""Temporal Schedules, created or updated idempotently at start-up (`merchflow up` step, `merchflow schedules`).

Operators see and pause them in the Temporal UI (Schedules tab); the specs here are the defaults from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from merchflow.logging import get_logger
from merchflow.repricing import schedules as repricing_schedules
from merchflow.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class ScheduleDef:
    schedule_id: str
    workflow: str  # workflow type name
    arg: Any
    spec: ScheduleSpec
    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP


def _stock(settings: Settings) -> list[ScheduleDef]:
    from activities.stock_payloads import ReconcileInput

    return [
        ScheduleDef(
            "stock-reconcile-hourly",
            "stock-reconcile",
            ReconcileInput(),
            ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(minutes=settings.reconcile_every_minutes))]
            ),
        ),
        ScheduleDef(
            "order-poll",
            "order-poll-all",
            ReconcileInput(),
            ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(minutes=settings.order_poll_every_minutes))]
            ),
        ),
    ]


# features add their schedule definitions here (one line each)
DEFINITIONS: list[Callable[[Settings], list[ScheduleDef]]] = [_stock]
DEFINITIONS.append(repricing_schedules.nightly)  # nightly repricing at settings.reprice_cron (issue 6)
DEFINITIONS.append(repricing_schedules.retrain)  # weekly demand-model retrain (issue 6)


def _schedule(settings: Settings, d: ScheduleDef) -> Schedule:
    from workers.registry import MAIN_QUEUE

    return Schedule(
        action=ScheduleActionStartWorkflow(
            d.workflow, d.arg, id=d.schedule_id, task_queue=settings.task_queue(MAIN_QUEUE)
        ),
        spec=d.spec,
        policy=SchedulePolicy(overlap=d.overlap),
    )


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    ids = []
    for make in DEFINITIONS:
        for d in make(settings):
            schedule = _schedule(settings, d)
            try:
                await client.create_schedule(d.schedule_id, schedule)
                log.info("schedule created", schedule_id=d.schedule_id)
            except ScheduleAlreadyRunningError:

                def update(_: ScheduleUpdateInput, s: Schedule = schedule) -> ScheduleUpdate:
                    return ScheduleUpdate(schedule=s)

                await client.get_schedule_handle(d.schedule_id).update(update)
            ids.append(d.schedule_id)
    return ids


async def ensure_schedules_step(settings: Settings) -> None:
    """`merchflow up` start-up step."""
    if not settings.schedules_enabled:
        return
    from merchflow.temporal import connect

    client = await connect(settings)
    await ensure_schedules(client, settings)
