"""Starting a listing sync from the API (on demand, and when an account gets connected)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from merchflow.settings import Settings
from workflows.listings.contract import SYNC_WORKFLOW, TASK_QUEUE, ListingSyncInput, Trigger, sync_workflow_id


async def start_listing_sync(client: Client, settings: Settings, account_id: int, trigger: Trigger) -> str:
    """One sync per account at a time: asking while one runs joins it (USE_EXISTING) instead of starting another."""
    workflow_id = sync_workflow_id(account_id)
    inp = ListingSyncInput(
        account_id=account_id,
        trigger=trigger,
        batch_listings=settings.listing_sync.batch_listings,
        batches_per_run=settings.listing_sync.batches_per_run,
    )
    handle = await client.start_workflow(
        SYNC_WORKFLOW,
        inp,
        id=workflow_id,
        task_queue=settings.task_queue(TASK_QUEUE),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return handle.result_run_id or workflow_id
