"""The approver pages in a real Chromium (Playwright drives /usr/bin/chromium, headless), served by
uvicorn against a real Temporal dev server with the decision workflows running on a worker."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.decisions import repository as repo
from activities.decisions.links import make_decision_token
from merchflow.db.engine import read_session
from merchflow.settings import Settings
from tests.web.conftest import add_product, price_proposal, priced, start_decision, workflow_result
from tests.web.helpers import PASSWORD, add_users

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def page(browser: Any, live_url: str) -> Any:
    context = await browser.new_context(base_url=live_url, viewport=PHONE)
    p = await context.new_page()
    p.set_default_timeout(15_000)
    yield p
    await context.close()


async def log_in(page: Any, username: str, path: str = "/approvals") -> None:
    await page.goto(path)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Log in')")
    await page.wait_for_selector("[data-testid=who]")


def status_of(engine: sa.Engine, decision_id: str) -> str:
    with read_session(engine) as session:
        return repo.get_decision(session, decision_id).status  # type: ignore[union-attr]


async def test_log_in_approve_edit_and_reject(
    page: Any, temporal_env: WorkflowEnvironment, flow_engine: sa.Engine, task_queue: str
) -> None:
    client, eng = temporal_env.client, flow_engine
    add_users(eng, ("alice", "approver"))
    add_product(eng, "P-1")
    add_product(eng, "P-2")
    await start_decision(client, eng, task_queue, "ap", price_proposal("P-1"))
    await start_decision(client, eng, task_queue, "ed", price_proposal("P-2"))
    await start_decision(client, eng, task_queue, "rj", priced(eng, "supplier-3"))

    await page.goto("/approvals")
    assert "/login" in page.url  # not logged in yet
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", "wrong password!")
    await page.click("button:has-text('Log in')")
    assert "Wrong user name or password" in await page.inner_text("[data-testid=login-error]")
    await log_in(page, "alice")
    assert await page.inner_text("[data-testid=pending-total]") == "3"
    # phone-sized screen: nothing sticks out sideways
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    await page.click("[data-testid=item-ap] a.main")
    assert "Two competitors undercut P-1" in await page.inner_text("main")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.fill("textarea[name=comment]", "fine by me")
    await page.click("[data-testid=approve]")
    await page.wait_for_url("**/approvals?done=approve")
    assert await page.inner_text("[data-testid=flash]") == "Approved."
    result = await workflow_result(client, "ap")
    assert (result.status, result.approver) == ("executed", "alice")

    await page.goto("/approvals/ed")
    await page.click("text=Edit the proposal, then approve")
    await page.fill("[data-testid=edit-price]", "18.75")
    await page.click("[data-testid=edit-approve]")
    await page.wait_for_url("**/approvals?done=edit_approve")
    result = await workflow_result(client, "ed")
    assert result.status == "executed" and result.action_result["new_price"] == "18.75"

    await page.goto("/approvals/rj")
    await page.fill("textarea[name=comment]", "not now")
    await page.click("[data-testid=reject]")
    await page.wait_for_url("**/approvals?done=reject")
    assert (await workflow_result(client, "rj")).status == "rejected"
    assert await page.inner_text("[data-testid=pending-total]") == "0"
    await page.goto("/approvals/rj")
    assert await page.inner_text("[data-testid=status]") == "rejected"
    assert "not now" in await page.inner_text("[data-testid=history]")


async def test_bulk_approve_a_filtered_set(
    page: Any, temporal_env: WorkflowEnvironment, flow_engine: sa.Engine, task_queue: str
) -> None:
    client, eng = temporal_env.client, flow_engine
    add_users(eng, ("alice", "approver"))
    for i in range(3):
        await start_decision(client, eng, task_queue, f"bk{i}", priced(eng, f"s-{i}", marketplace="ebay"))
    await start_decision(client, eng, task_queue, "keep", price_proposal("K-1"))
    await log_in(page, "alice", "/approvals?marketplace=ebay")
    assert await page.is_disabled("[data-testid=bulk-approve]")  # nothing ticked yet
    await page.check("#pick-all")
    assert await page.inner_text("[data-testid=bulk-approve]") == "Approve selected (3)"
    await page.click("[data-testid=bulk-approve]")
    await page.wait_for_url("**/approvals/bulk/*")  # redirected after the POST
    assert await page.inner_text("[data-testid=bulk-summary]") == "3 approved, 0 not approved."
    await page.reload()  # a GET: nothing is posted again
    assert await page.inner_text("[data-testid=bulk-summary]") == "3 approved, 0 not approved."
    for i in range(3):
        assert (await workflow_result(client, f"bk{i}")).status == "executed"
    assert status_of(eng, "keep") == "pending"  # outside the filter


async def test_viewer_cannot_approve_and_forged_posts_are_refused(
    page: Any, temporal_env: WorkflowEnvironment, flow_engine: sa.Engine, task_queue: str
) -> None:
    eng = flow_engine
    add_users(eng, ("vera", "viewer"), ("alice", "approver"))
    await start_decision(temporal_env.client, eng, task_queue, "v1", priced(eng, "s-1"))
    await log_in(page, "vera", "/approvals/v1")
    assert await page.is_visible("[data-testid=view-only]")
    assert await page.locator("[data-testid=approve]").count() == 0
    assert await page.locator("input[name=items]").count() == 0
    # even a hand-made POST with the viewer's genuine token is refused
    status = await page.evaluate(
        """async () => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const r = await fetch('/approvals/v1/decide', {method: 'POST',
                body: new URLSearchParams({action: 'approve', version: '1', csrf_token: token})});
            return r.status;
        }"""
    )
    assert status == 403

    # an approver's browser submitting a form without the CSRF token (what a forging site would send)
    await page.context.clear_cookies()
    await log_in(page, "alice", "/approvals/v1")
    await page.evaluate(
        """() => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/approvals/v1/decide';
            for (const [k, v] of [['action', 'approve'], ['version', '1']]) {
                const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;
                f.appendChild(i);
            }
            document.body.appendChild(f); f.submit();
        }"""
    )
    await page.wait_for_selector("[data-testid=error]")
    assert await page.get_attribute("[data-testid=error]", "data-status") == "403"
    assert "security token" in await page.inner_text("[data-testid=error]")
    assert status_of(eng, "v1") == "pending"


async def test_signed_links_confirm_once_and_refuse_expired_or_reused(
    page: Any,
    temporal_env: WorkflowEnvironment,
    flow_engine: sa.Engine,
    flow_settings: Settings,
    task_queue: str,
) -> None:
    eng = flow_engine
    add_users(eng, ("alice", "approver"))
    await start_decision(temporal_env.client, eng, task_queue, "lk", priced(eng, "s-1"))
    token = make_decision_token(flow_settings, decision_id="lk", version=1)

    await page.goto(f"/approvals/link/{token}")  # from the e-mail: log in first, then the confirmation
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Log in')")
    await page.wait_for_selector("[data-testid=confirm-approve]")
    assert status_of(eng, "lk") == "pending"  # opening the link did nothing
    await page.click("[data-testid=confirm-approve]")
    await page.wait_for_url("**/approvals/lk?done=approve")
    assert (await workflow_result(temporal_env.client, "lk")).approver == "alice"

    await page.goto(f"/approvals/link/{token}")
    assert "Link already used" in await page.inner_text("[data-testid=error]")
    expired = make_decision_token(flow_settings, decision_id="lk", version=1, ttl_seconds=-60)
    await page.goto(f"/approvals/link/{expired}")
    assert "Link expired" in await page.inner_text("[data-testid=error]")
