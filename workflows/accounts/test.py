"""account-test: the cheapest authenticated call per capability, run on a worker (where the adapters are), so the
API and the CLI report what the engine itself can do with the account."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.accounts.activities import AccountActivities
    from workflows.accounts.contract import TEST_WORKFLOW, AccountTestInput, AccountTestReport
    from workflows.common.retries import ONCE


@workflow.defn(name=TEST_WORKFLOW)
class AccountTestWorkflow:
    @workflow.run
    async def run(self, inp: AccountTestInput) -> AccountTestReport:
        # one attempt: a test reports what happens now, a retry would hide it
        return await workflow.execute_activity_method(
            AccountActivities.test_account,
            inp,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=ONCE,
        )
