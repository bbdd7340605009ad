"""The accounts process's contract: the account-test workflow (run where the marketplace adapters live, the worker)
and its payloads. A leaf: pydantic and the pure domain only."""

from __future__ import annotations

from pydantic import BaseModel

from domain.accounts.rules import AccountTestReport

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)
TEST_WORKFLOW = "account-test"


def test_workflow_id(account_id: int, request_id: str) -> str:
    return f"account-test-{account_id}-{request_id}"


class AccountTestInput(BaseModel):
    account_id: int


__all__ = ["TASK_QUEUE", "TEST_WORKFLOW", "AccountTestInput", "AccountTestReport", "test_workflow_id"]
