"""Account activities: the account test, on the worker where the marketplace adapters are."""

from __future__ import annotations

from temporalio import activity

from activities.accounts.health import AccountHealth
from activities.accounts.testing import run_test
from connectors.marketplace.accounts import MarketplaceRegistry
from workers.deps import Deps
from workflows.accounts.contract import AccountTestInput, AccountTestReport


class AccountActivities:
    def __init__(self, deps: Deps) -> None:
        self.health = AccountHealth(deps.engine, deps.settings)
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings, listener=self.health
        )

    @activity.defn(name="account-test")
    async def test_account(self, inp: AccountTestInput) -> AccountTestReport:
        return await run_test(self.marketplaces, self.health, inp.account_id)
