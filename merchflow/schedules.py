"""Temporal Schedules, created or updated idempotently at start-up (`merchflow up` step, `merchflow schedules`).

Each feature declares its schedules (`Feature.schedules`); operators see and pause them in the Temporal UI
(Schedules tab); the specs are the defaults from settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from merchflow.features import MAIN_QUEUE, Feature, resolve
from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class ScheduleDef:
    schedule_id: str
    workflow: str  # workflow type name
    arg: Any
    spec: ScheduleSpec
    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP


def definitions(
    settings: Settings, features: list[Feature] | None = None
) -> list[tuple[Feature, ScheduleDef]]:
    out = []
    from workers.registry import FEATURES

    for f in FEATURES if features is None else features:
        if f.schedules:
            out.extend((f, d) for d in resolve(f.schedules)(settings))
    return out


def schedule_for(settings: Settings, d: ScheduleDef, task_queue: str = MAIN_QUEUE) -> Schedule:
    """The Temporal Schedule of a definition; `task_queue` is the feature's logical queue."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            d.workflow, d.arg, id=d.schedule_id, task_queue=settings.task_queue(task_queue)
        ),
        spec=d.spec,
        policy=SchedulePolicy(overlap=d.overlap),
    )


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    ids = []
    for feature, d in definitions(settings):
        schedule = schedule_for(settings, d, feature.task_queue)
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
