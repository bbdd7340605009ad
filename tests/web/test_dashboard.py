"""The dashboard in a real Chromium: log in, see every chart (server-rendered SVG) with its numbers in a table,
pick a SKU and see its forecast against its sales; the same login and roles as the approver pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from activities.analytics.refresh import refresh_all
from tests.forecasting.seeding import seed_catalogue
from tests.web.helpers import PASSWORD, add_users

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(browser: Any, live_url: str) -> Any:
    context = await browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    p = await context.new_page()
    p.set_default_timeout(20_000)
    yield p
    await context.close()


async def test_dashboard_shows_charts_and_their_numbers(
    page: Any, live_url: str, flow_engine: sa.Engine
) -> None:
    today = datetime.now(UTC).date()
    skus = seed_catalogue(flow_engine, skus=60, today=today, seed=5)
    names, _ = refresh_all(flow_engine, run_id="test-run", today=today, window_days=30, segments=4,
                           beat=lambda _: None)  # fmt: skip
    assert {"aging", "top_worst", "projection", "channels", "customers", "stock"} <= set(names)
    add_users(flow_engine, ("vera", "viewer"))
    async with httpx.AsyncClient(base_url=live_url) as anon:
        assert (await anon.get("/dashboard")).status_code in (302, 303, 307)  # not without logging in

    await page.goto("/dashboard")
    await page.fill("input[name=username]", "vera")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Log in')")
    await page.wait_for_url("**/dashboard")
    for section in ("forecast", "projection", "aging", "top-worst"):
        assert await page.locator(f"[data-testid={section}] img.chart").count() >= 1, section
    # every chart is a real picture the browser decoded (SVG from vl-convert), not a broken image
    widths = await page.eval_on_selector_all(
        "img.chart", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert len(widths) == 4 and all(w > 200 for w in widths)
    aging_rows = await page.locator("[data-testid=aging-table] tbody tr").count()
    assert aging_rows == 5
    expected = await page.inner_text("[data-testid=projection-expected]")
    assert float(expected.replace(",", "")) > 0
    top_sku = (
        await page.inner_text("[data-testid=top-revenue] tbody tr:first-child td:nth-child(2)")
    ).strip()
    assert top_sku in skus
    # the SKU shown by default is the top seller; another one is a click away
    other = (await page.inner_text("[data-testid=top-revenue] tbody tr:nth-child(2) td:nth-child(2)")).strip()
    await page.click(f"[data-testid=top-revenue] a:has-text('{other}')")
    await page.wait_for_url(f"**/dashboard?sku={other}")
    assert await page.inner_text("[data-testid=forecast-sku]") == other
    assert await page.locator("[data-testid=forecast-table] tbody tr").count() == 30
    await page.fill("input[name=sku]", "NO-SUCH-SKU")
    await page.click("[data-testid=forecast] button")
    await page.wait_for_selector("[data-testid=no-forecast]")
