"""Starting the workflow an executed action asks for (`result["follow_up"]`, e.g. a listing price change: the
account's price publish), from the decision workflow and from the bulk executor alike."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.decisions.contract import FollowUp


async def start_or_nudge(follow: FollowUp) -> None:
    """Start the workflow an action asked for, or signal it to scan again when it already runs (a run that
    just ended may refuse the signal: start it anew then)."""
    for _ in range(3):
        try:
            await workflow.start_child_workflow(
                follow.workflow,
                follow.arg,
                id=follow.workflow_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            return
        except WorkflowAlreadyStartedError:
            pass
        try:
            await workflow.get_external_workflow_handle(follow.workflow_id).signal(follow.signal, {})
            return
        except Exception as exc:  # the run ended between the two calls
            workflow.logger.info("follow-up %s not signalled: %s", follow.workflow_id, exc)
    workflow.logger.warning("follow-up %s neither started nor signalled", follow.workflow_id)
