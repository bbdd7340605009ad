"""The stock schedules (hourly reconcile, 5-minute order poll) start runs that really work when they fire."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from temporalio.client import ScheduleActionStartWorkflow, WorkflowExecutionStatus

from merchflow.schedules import schedule_for
from tests.stock.conftest import StackFactory
from tests.stock.harness import on_hand
from tests.stock.waiting import converged, eventually, listed
from workflows.stock.schedules import definitions


async def fire(st, definition) -> str:  # type: ignore[no-untyped-def]
    """Create the schedule under a test-unique id, trigger it now, return the id of the workflow it started."""
    sid = f"{definition.schedule_id}-{uuid.uuid4().hex[:6]}"
    handle = await st.client.create_schedule(
        sid, schedule_for(st.settings, replace(definition, schedule_id=sid))
    )
    try:
        desc = await handle.describe()
        assert isinstance(desc.schedule.action, ScheduleActionStartWorkflow)
        await handle.trigger()
        desc = await eventually(
            handle.describe, lambda d: len(d.info.recent_actions) == 1, what="schedule fired"
        )
        return desc.info.recent_actions[0].action.workflow_id  # type: ignore[no-any-return]
    finally:
        await handle.delete()


async def test_reconcile_and_poll_schedules_start_working_runs(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...]
) -> None:
    stock = {"SCH-1": 8, "SCH-2": 3}
    drifted = {mp: {"SCH-1": 5, "SCH-2": 3} for mp in marketplaces}
    async with stack_sqlite(stock=stock, sandbox_stock=drifted) as st:
        reconcile, poll = definitions(st.settings)
        assert (reconcile.workflow, poll.workflow) == ("stock-reconcile", "order-poll-all")
        assert reconcile.spec.intervals[0].every == timedelta(minutes=60)
        assert poll.spec.intervals[0].every == timedelta(minutes=5)

        run = await fire(st, reconcile)
        await st.client.get_workflow_handle(run).result()
        await converged(st, ["SCH-1", "SCH-2"])

        assert st.relay is not None
        st.relay.hold = True  # webhooks lost: only the poller can find this order
        seller = marketplaces[0]
        bought = await st.sbx.buy(seller, "SCH-2", 1, order_id="scheduled-poll")
        assert bought.status_code in (200, 201)
        # some marketplaces list an order only once its change has settled (a second or two): wait for that
        await eventually(lambda: listed(st, seller, bought.json()["order_id"]), bool, what="the order listed")
        run = await fire(st, poll)
        handle = st.client.get_workflow_handle(run)
        await handle.result()
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert on_hand(st.engine, "SCH-2") == 2
        await converged(st, ["SCH-2"])
