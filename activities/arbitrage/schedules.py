"""One Temporal Schedule per saved search (`arbitrage-search-<id>`), created or updated when the search is saved
and at start-up for every enabled search; paused with the search. Operators see and trigger them in the UI."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from merchflow.settings import Settings
from workflows.arbitrage.contract import SCAN_WORKFLOW, TASK_QUEUE, ScanInput, scan_workflow_id, schedule_id


def search_schedule(settings: Settings, *, search_id: int, every_minutes: int, enabled: bool) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SCAN_WORKFLOW, ScanInput(search_id=search_id), id=scan_workflow_id(search_id),
            task_queue=settings.task_queue(TASK_QUEUE),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=every_minutes))]),
        # a scan still running when the next one is due: skip it, the next one covers the same offers
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=not enabled, note="saved search disabled" if not enabled else None),
    )  # fmt: skip


async def upsert_search_schedule(
    client: Client, settings: Settings, *, search_id: int, every_minutes: int, enabled: bool
) -> str:
    sid = schedule_id(search_id)
    schedule = search_schedule(settings, search_id=search_id, every_minutes=every_minutes, enabled=enabled)
    try:
        await client.create_schedule(sid, schedule)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(sid).update(update)
    return sid


async def delete_search_schedule(client: Client, search_id: int) -> None:
    try:
        await client.get_schedule_handle(schedule_id(search_id)).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def schedules_step(settings: Settings) -> None:
    """`merchflow up` start-up step: a schedule for every saved search (searches saved while Temporal was away)."""
    from sqlmodel import select

    from activities.arbitrage.tables import SavedSearch
    from merchflow.db.engine import engine_for, read_session
    from merchflow.temporal import connect

    if not settings.schedules_enabled:
        return
    with read_session(engine_for(settings.sqlalchemy_url)) as s:
        searches = [(x.id, x.every_minutes, x.enabled) for x in s.exec(select(SavedSearch)).all()]
    if not searches:
        return
    client = await connect(settings)
    for sid, every, enabled in searches:
        await upsert_search_schedule(client, settings, search_id=sid, every_minutes=every, enabled=enabled)  # type: ignore[arg-type]
