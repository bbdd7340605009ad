"""The connect flows in a real Chromium (Playwright, /usr/bin/chromium, headless): an administrator adds an account on
/admin/accounts, clicks Connect, allows (or refuses) on the sandbox marketplace's consent page, and lands on the
engine's result page; the same callback opened again is refused."""

from __future__ import annotations

from typing import Any

import pytest

from merchflow.db.engine import session_scope
from merchflow.users import create_user
from tests.accounts.conftest import StackFactory
from tests.accounts.helpers import account_row
from tests.web.conftest import browser  # noqa: F401 - the module-scoped Chromium fixture
from tests.web.helpers import PASSWORD

pytestmark = pytest.mark.browser


async def _log_in(page: Any) -> None:
    await page.goto("/admin/accounts")
    await page.fill("input[name=username]", "owner")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Log in')")
    await page.wait_for_selector("[data-testid=accounts]")


async def _add_and_connect(page: Any, marketplace: str, name: str) -> None:
    await page.goto("/admin/accounts")
    await page.select_option("select[name=marketplace]", marketplace)
    await page.fill("input[name=name]", name)
    await page.click("button:has-text('Add account')")
    await page.wait_for_selector(f"[data-testid=account-{marketplace}-{name}]")
    row = page.locator(f"[data-testid=account-{marketplace}-{name}]")
    await row.locator("button:has-text('Connect')").click()
    await page.click("[data-testid=consent-link]")  # off to the marketplace


@pytest.mark.parametrize("marketplace", ["ebay", "amazon", "shopify", "woocommerce"])
async def test_connect_in_the_browser(stack_sqlite: StackFactory, browser: Any, marketplace: str) -> None:  # noqa: F811
    async with stack_sqlite(marketplaces=(marketplace,)) as st:
        with session_scope(st.engine) as s:
            create_user(s, username="owner", password=PASSWORD, role="admin")
        context = await browser.new_context(base_url=st.api_url)
        page = await context.new_page()
        page.set_default_timeout(30_000)
        try:
            await _log_in(page)
            await _add_and_connect(page, marketplace, "mine")
            await page.click("#allow")  # the seller allows on the marketplace's page
            result = page.locator("[data-testid=connect-result]")
            await result.wait_for()
            assert await result.get_attribute("data-ok") == "true", await result.inner_text()
            assert "is connected" in await result.inner_text()
            callback = page.url
            mine = next(a for a in _accounts(st) if a.name == "mine")
            assert account_row(st.engine, mine.id).status == "connected"

            if (
                marketplace != "woocommerce"
            ):  # Woo's return page only reports; its replay is the key post (HTTP test)
                await page.goto(callback)
                text = await page.locator("[data-testid=connect-result]").inner_text()
                assert "already used" in text

            await _add_and_connect(page, marketplace, "refused")
            await page.click("#deny")
            if marketplace == "shopify":
                await page.wait_for_selector("#apps")  # Shopify keeps a merchant who cancels in the admin
            else:
                result = page.locator("[data-testid=connect-result]")
                await result.wait_for()
                assert await result.get_attribute("data-ok") == "false"
            refused = next(a for a in _accounts(st) if a.name == "refused")
            assert account_row(st.engine, refused.id).status == "pending"

            await page.goto("/admin/accounts")
            status = page.locator(f"[data-testid=account-{marketplace}-mine] [data-testid=status]")
            assert (await status.inner_text()).strip().startswith("connected")
        finally:
            await context.close()


def _accounts(st: Any) -> list[Any]:
    from activities.accounts.repository import listed
    from merchflow.db.engine import read_session

    with read_session(st.engine) as s:
        return listed(s)
