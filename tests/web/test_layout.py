"""The approver pages measured in a real Chromium on a phone (390 x 844) and on a desktop: no sideways scrolling,
every tap target at least 44 x 44 px, no word broken inside table headings, labels or buttons, the header on one
line, Approve on screen without scrolling on a typical decision, money with its currency, no raw JSON or ISO."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from domain.decisions.rules import ExpectedEffect, Proposal
from tests.web.conftest import add_product, start_decision
from tests.web.helpers import PASSWORD, add_decision, add_users

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

# Everything a person can tap, measured on the element that takes the tap (a checkbox's label).
MEASURE = """() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true});
  };
  const out = {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth,
               small: [], broken: [], overflowing: []};
  for (const el of document.querySelectorAll('a[href], button, summary, select, textarea, input:not([type=hidden])')) {
    const target = el.matches('input[type=checkbox], input[type=radio]') ? (el.closest('label') || el) : el;
    if (!visible(target)) continue;
    const r = target.getBoundingClientRect();
    if (r.width < 43.5 || r.height < 43.5)
      out.small.push(`${el.tagName} "${(el.innerText || el.name || el.value || '').trim().slice(0, 30)}" ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
  }
  // a word whose letters land on two lines was broken inside the word
  for (const el of document.querySelectorAll('th, h1, h2, h3, label, button, summary, .chip, .type, .mkt, header.top')) {
    if (!visible(el)) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode, words = /\\S+/g;
      if (!node.parentElement.checkVisibility()) continue;  // e.g. inside a closed <details>
      let m;
      while ((m = words.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) out.broken.push(`${el.tagName}: ${m[0]}`);
      }
    }
  }
  for (const el of document.querySelectorAll('main *, header *')) {
    if (visible(el) && el.getBoundingClientRect().right > window.innerWidth + 0.5) out.overflowing.push(el.tagName + '.' + el.className);
  }
  const header = document.querySelector('header.top').getBoundingClientRect();
  const items = [...document.querySelectorAll('header.top > a, header.top .nav a, header.top .menu > summary')].filter(visible);
  out.header = {height: header.height, lines: new Set(items.map((i) => Math.round(i.getBoundingClientRect().top / 8))).size};
  return out;
}"""

ON_SCREEN = """(sel) => {
  const el = document.querySelector(sel);
  if (!el) return 'missing';
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight || r.left < 0 || r.right > window.innerWidth) return `off screen ${JSON.stringify(r)}`;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit === el || el.contains(hit) ? 'ok' : `covered by ${hit && hit.outerHTML.slice(0, 80)}`;
}"""


async def assert_fits(page: Any, what: str) -> dict[str, Any]:
    m = await page.evaluate(MEASURE)
    assert m["scrollWidth"] <= m["innerWidth"], (
        f"{what}: scrolls sideways ({m['scrollWidth']} > {m['innerWidth']}): {m['overflowing'][:5]}"
    )
    assert m["small"] == [], f"{what}: tap targets under 44 px: {m['small']}"
    assert m["broken"] == [], f"{what}: words broken mid-word: {m['broken']}"
    assert m["header"]["lines"] == 1 and m["header"]["height"] <= 64, (
        f"{what}: header on more than one line: {m['header']}"
    )
    return m  # type: ignore[no-any-return]


def assert_for_people(text: str, what: str) -> None:
    assert not ISO.search(text), f"{what}: a raw ISO timestamp is shown"
    assert '{"' not in text and "':" not in text, f"{what}: raw JSON is shown"
    assert not re.search(r"\b\d+\.\d{4}\b", text), f"{what}: money without its currency (e.g. 12.9900)"


def typical(sku: str) -> Proposal:
    """A price change as the nightly repricing proposes it."""
    return Proposal(
        decision_type="price_change",
        subject=sku,
        marketplace="amazon",
        currency="USD",
        current={"price": "20.0000", "cost": "8.0000"},
        proposed={"price": "18.49"},
        confidence=0.74,
        reasoning=(
            "Two competitors with the same UPC dropped to 18.99 and 19.49 this week; matching the lowest keeps the "
            "Buy Box share we had last month while the margin stays above the 10% floor. Stock covers 64 days."
        ),
        factors=[
            {"name": "change_pct", "value": -7.55, "unit": "percent"},
            {"name": "floor_price", "value": 9.87, "detail": "cost + minimum margin + fees", "unit": "money"},
            {"name": "inventory_age_days", "value": 41, "unit": "days"},
            {"name": "stock", "value": 212, "unit": "count"},
            {"name": "competitor_min", "value": 18.99, "unit": "money"},
            {"name": "elasticity", "value": -2.31, "weight": 0.62},
        ],  # type: ignore[list-item]
        evidence=[
            {
                "kind": "competitor_price",
                "label": "SoundDepot (amazon)",
                "value": "18.99",
                "url": "https://a.example/p",
            },
            {"kind": "competitor_price", "label": "AudioHub (ebay)", "value": "19.49"},
            {"kind": "link", "label": "Pricing note", "url": "javascript:alert(document.cookie)"},
        ],  # type: ignore[list-item]
        expected_effect=ExpectedEffect(
            margin_delta="-0.82",
            revenue_delta="4.10",
            units_change_pct=21.5,
            basis="at the last 28 days' sales rate",
        ),
    )


@pytest.fixture(params=["phone", "desktop"])
async def screen(request: pytest.FixtureRequest, browser: Any, live_url: str) -> Any:
    viewport = PHONE if request.param == "phone" else DESKTOP
    context = await browser.new_context(base_url=live_url, viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    page.viewport = viewport
    yield page
    await context.close()


async def log_in(page: Any, username: str, path: str) -> None:
    await page.goto(path)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Log in')")
    await page.wait_for_selector("[data-testid=who]")


async def test_queue_decision_and_bulk_result_fit_the_screen(
    screen: Any, temporal_env: WorkflowEnvironment, flow_engine: sa.Engine, task_queue: str
) -> None:
    page, eng = screen, flow_engine
    add_users(eng, ("alice-with-a-rather-long-name", "approver"))
    add_product(eng, "TYP-1")
    uid = task_queue[-8:]  # workflow ids are shared by every test on this Temporal server
    typ = f"typ-{uid}"
    await start_decision(temporal_env.client, eng, task_queue, typ, typical("TYP-1"))
    for i in range(3):
        add_product(eng, f"BULK-{i}")
        await start_decision(
            temporal_env.client,
            eng,
            task_queue,
            f"bk{i}",
            typical(f"BULK-{i}").model_copy(update={"marketplace": "ebay"}),
        )
    add_decision(eng, "long", subject="SKU-" + "X" * 60, age=timedelta(days=3))

    await log_in(page, "alice-with-a-rather-long-name", "/approvals")
    await assert_fits(page, "login → queue")
    queue = await page.inner_text("main")
    assert_for_people(queue, "queue")
    item = await page.inner_text(f"[data-testid=item-{typ}]")
    assert "$20.00" in item and "$18.49" in item  # money with its currency
    assert "Two competitors with the same UPC" in item  # the reasoning, short
    assert "Margin −$0.82 / day" in item or "Margin -$0.82 / day" in item  # the expected effect
    assert "days ago" in await page.inner_text("[data-testid=item-long]")

    await page.click(f"[data-testid=item-{typ}] a.main")
    await page.wait_for_selector("[data-testid=approve]")
    await assert_fits(page, "decision page")
    assert await page.evaluate(ON_SCREEN, "[data-testid=approve]") == "ok"  # without scrolling
    assert await page.evaluate(ON_SCREEN, "[data-testid=reject]") == "ok"
    detail = await page.inner_text("main")
    assert_for_people(detail, "decision page")
    for shown in ("Revenue +$4.10 / day", "Units sold +21.5%", "$9.87", "41 days", "$18.99", "62%"):
        assert shown in detail, shown
    assert "Waits for a person to decide" in detail  # the verdict as a sentence
    assert re.search(r"\(\w{3} \d+, \d{4}, \d+:\d\d\s[AP]M UTC\)", detail)  # absolute time with its zone
    # a javascript: URL is text, never a link
    assert await page.locator("a[href^='javascript']").count() == 0
    assert "javascript:alert(document.cookie)" in await page.inner_text("[data-testid=evidence]")
    # scrolled to the end, Approve is still there, on top of the content
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert await page.evaluate(ON_SCREEN, "[data-testid=approve]") == "ok"

    await page.goto("/approvals?marketplace=ebay")
    await page.check("#pick-all")
    await page.click("[data-testid=bulk-approve]")
    await page.wait_for_url("**/approvals/bulk/*")
    await assert_fits(page, "bulk result")
    assert_for_people(await page.inner_text("main"), "bulk result")

    await page.click("[data-testid=who]")  # the account menu opens on top, still one header line
    await page.wait_for_selector("[data-testid=logout]", state="visible")
    await assert_fits(page, "menu open")


async def test_policy_and_user_pages_fit_the_screen(screen: Any, flow_engine: sa.Engine) -> None:
    page = screen
    add_users(flow_engine, ("root", "admin"), ("someone-with-a-long-name", "viewer"))
    await log_in(page, "root", "/admin/policies")
    await assert_fits(page, "policy page")
    text = await page.inner_text("main")
    assert_for_people(text, "policy page")
    assert "A person decides any price change above 20%." in text
    await page.goto("/admin/users")
    await assert_fits(page, "users page")
    await page.goto("/approvals")
    await assert_fits(page, "empty queue")


async def test_login_page_fits_the_screen(screen: Any) -> None:
    await screen.goto("/login")
    m = await screen.evaluate(MEASURE)
    assert m["scrollWidth"] <= m["innerWidth"] and m["small"] == [] and m["broken"] == []
