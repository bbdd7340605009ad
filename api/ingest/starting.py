"""Starting a batch's workflow: the API and `merchflow ingest` both do it this way."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from merchflow.settings import Settings
from workflows.ingest.contract import BATCH_WORKFLOW, TASK_QUEUE, BatchInput, batch_workflow_id


async def start_batch(client: Client, settings: Settings, batch_id: str) -> str:
    """Idempotent: a batch has one workflow, whoever starts it and however often."""
    cfg = settings.ingest
    workflow_id = batch_workflow_id(batch_id)
    await client.start_workflow(
        BATCH_WORKFLOW,
        BatchInput(
            batch_id=batch_id, max_parallel=cfg.max_parallel_products, products_per_run=cfg.products_per_run
        ),
        id=workflow_id,
        task_queue=settings.task_queue(TASK_QUEUE),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return workflow_id
