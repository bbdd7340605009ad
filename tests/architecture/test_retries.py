"""Every retry policy a workflow uses comes from workflows/common/retries.py, and each of those never retries an error
that cannot heal; on a real Temporal server such an error fails the activity at its first attempt."""

from __future__ import annotations

import ast
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.common import retries

ROOT = Path(__file__).resolve().parents[2]


def test_no_workflow_builds_its_own_retry_policy() -> None:
    offenders = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        if path == ROOT / "workflows" / "common" / "retries.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "RetryPolicy"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"use a policy from workflows/common/retries.py: {offenders}"


@pytest.mark.parametrize("name", ["FAST", "STEADY", "FEW", "BOUNDED", "READ_SOON", "ACT", "DELIVERY", "ONCE"])
def test_every_shared_policy_refuses_to_retry_what_cannot_heal(name: str) -> None:
    policy = getattr(retries, name)
    assert isinstance(policy, RetryPolicy)
    for kind in ("ValidationError", "OverflowError", "NotFoundError", "KeyError", "ValueError"):
        assert kind in (policy.non_retryable_error_types or []), (name, kind)
    assert policy.maximum_interval is not None  # never a backoff that grows without end


def test_all_module_policies_are_checked() -> None:
    found = {k for k, v in vars(retries).items() if isinstance(v, RetryPolicy)}
    assert found == {"FAST", "STEADY", "FEW", "BOUNDED", "READ_SOON", "ACT", "DELIVERY", "ONCE"}


ATTEMPTS: list[int] = []


@activity.defn(name="apiguard-overflow")
def overflowing(value: int) -> None:
    ATTEMPTS.append(activity.info().attempt)
    raise OverflowError("Python int too large to convert to SQLite INTEGER")  # what sqlite3 raises for 2**64


@workflow.defn(name="apiguard-overflow-workflow", sandboxed=False)
class OverflowWorkflow:
    @workflow.run
    async def run(self, value: int) -> None:
        try:
            await workflow.execute_activity(
                overflowing, value, start_to_close_timeout=timedelta(seconds=10), retry_policy=retries.FAST
            )
        except ActivityError as exc:
            raise ApplicationError(f"cannot proceed: {exc.cause}", non_retryable=True) from exc


async def test_an_unhealable_error_fails_at_the_first_attempt(temporal_env: WorkflowEnvironment) -> None:
    queue = f"retries-{uuid.uuid4().hex[:8]}"
    ATTEMPTS.clear()
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        async with Worker(
            temporal_env.client,
            task_queue=queue,
            workflows=[OverflowWorkflow],
            activities=[overflowing],
            activity_executor=pool,
        ):
            with pytest.raises(WorkflowFailureError) as failed:
                await temporal_env.client.execute_workflow(
                    OverflowWorkflow.run, 2**64, id=f"overflow-{uuid.uuid4().hex[:8]}", task_queue=queue
                )
    assert ATTEMPTS == [1]
    assert "too large" in str(failed.value.cause)
