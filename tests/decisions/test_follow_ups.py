"""An executed action that asks for a follow-up workflow (a listing price change: the account's price publish) gets
it started by the decision workflow too, not only by the bulk executor; a second decision nudges the running one."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from sqlmodel import Session
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions.activities import DecisionActivities
from tests.decisions.conftest import WORKFLOWS, new_id, price_proposal, set_policy
from workers.deps import Deps
from workers.registry import activity_callables
from workflows.decisions.contract import DecisionInput, DecisionResult, ExecuteInput, decision_workflow_id


@workflow.defn(name="test-follow-up-probe", sandboxed=False)
class FollowUpProbe:
    """Stands in for the price publish: records its argument and the nudges it gets until told to stop."""

    def __init__(self) -> None:
        self.nudges = 0

    @workflow.signal(name="more")
    def more(self, _: dict[str, Any]) -> None:
        self.nudges += 1

    @workflow.query(name="nudges")
    def count(self) -> int:
        return self.nudges

    @workflow.run
    async def run(self, arg: dict[str, Any]) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self.nudges >= 1)
        return {**arg, "nudges": self.nudges}


class FollowingHandler:
    def __init__(self, follow_id: str) -> None:
        self.follow_id = follow_id

    def lock(self, session: Session, req: ExecuteInput) -> None:
        return None

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        follow = {"workflow": "test-follow-up-probe", "workflow_id": self.follow_id, "arg": {"account_id": 7}}
        return {"done": req.decision_id, "follow_up": follow}


async def test_the_decision_workflow_starts_the_follow_up_and_nudges_it(
    temporal_env: WorkflowEnvironment, deps: Deps, dec_engine, task_queue: str
) -> None:
    client, follow_id = temporal_env.client, new_id("follow")
    deps.decision_handlers = {"price_change": FollowingHandler(follow_id)}
    set_policy(dec_engine, "price_change", mode="full-auto", threshold=0.0, guardrails={})
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS, FollowUpProbe],
        activities=activity_callables(DecisionActivities(deps)),
        activity_executor=concurrent.futures.ThreadPoolExecutor(4),
    )
    async with worker:
        results = []
        for _ in range(2):
            did = new_id()
            handle = await client.start_workflow(
                "decision",
                DecisionInput(decision_id=did, proposal=price_proposal(new_id("SKU")), notify=False),
                id=decision_workflow_id(did),
                task_queue=task_queue,
                result_type=DecisionResult,
            )
            results.append(await asyncio.wait_for(handle.result(), 30))
        follow = client.get_workflow_handle(follow_id)
        outcome = await asyncio.wait_for(follow.result(), 30)
    assert [r.status for r in results] == ["executed", "executed"]
    # started by the first decision (its argument), nudged by the second
    assert outcome == {"account_id": 7, "nudges": 1}
