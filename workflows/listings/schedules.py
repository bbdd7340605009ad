"""The listings process's Temporal Schedule: the daily listing sync of every connected account, in settings.time_zone."""

from __future__ import annotations

from temporalio.client import ScheduleSpec

from merchflow.schedules import ScheduleDef
from merchflow.settings import Settings
from workflows.listings.contract import SYNC_ALL_SCHEDULE_ID, SYNC_ALL_WORKFLOW, SyncAllInput


def definitions(settings: Settings) -> list[ScheduleDef]:
    if not settings.listing_sync.enabled:
        return []
    daily = ScheduleSpec(cron_expressions=[settings.listing_sync.cron], time_zone_name=settings.time_zone)
    inp = SyncAllInput(
        trigger="schedule",
        batch_listings=settings.listing_sync.batch_listings,
        batches_per_run=settings.listing_sync.batches_per_run,
    )
    return [ScheduleDef(SYNC_ALL_SCHEDULE_ID, SYNC_ALL_WORKFLOW, inp, daily)]
