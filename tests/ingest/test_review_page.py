"""Acceptance, in a real Chromium: a folder of generated photos goes in through `merchflow ingest DIR`, the drafts
show on the approver page (the photo through a signed URL, every attribute with confidence and source, the gaps per
marketplace), the approver corrects a value and a price and approves, and the listings go live on the sandboxes
with the edited price and the manifest's quantity; every proposed value becomes a calibration label."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.ingest.tables import IngestLabel
from merchflow.db.engine import read_session
from tests.ingest import photos
from tests.ingest.stack import Stack, ingest_stack
from tests.web.helpers import PASSWORD, add_users

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from tests.conftest import IN_CI
    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed; browser tests skipped")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@contextlib.asynccontextmanager
async def serve(st: Stack) -> AsyncIterator[str]:
    """The stack's app under uvicorn on the port its settings name (the local blob store signs URLs for it)."""
    import uvicorn

    port = st.settings.api_port
    server = uvicorn.Server(
        uvicorn.Config(st.api.app, host="127.0.0.1", port=port, log_config=None, access_log=False)  # type: ignore[attr-defined]
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 15)


async def test_folder_to_reviewed_drafts_to_live_listings(
    tmp_path: Path, temporal_env: WorkflowEnvironment, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "mug.jpg").write_bytes(photos.red_mug().data)
    (folder / "flask.webp").write_bytes(photos.webp_black().data)
    (folder / "manifest.csv").write_text(
        "images,sku,cost,quantity,marketplaces\n"
        "mug.jpg,PAGE-MUG,4.00,7,ebay;shopify\n"
        "flask.webp,PAGE-FLASK,6.00,2,amazon;woocommerce\n"
    )
    temporal = {
        "address": temporal_env.client.service_client.config.target_host,
        "task_queue_prefix": f"ipage-{uuid.uuid4().hex[:8]}",
    }
    async with ingest_stack(tmp_path / "s", temporal_env.client, temporal=temporal) as st:
        # `merchflow ingest DIR`, in process with the stack's settings, following the batch to the drafts
        import merchflow.settings
        from api.ingest.cli import _run

        monkeypatch.setattr(merchflow.settings, "get_settings", lambda: st.settings)
        assert await _run(folder, None, True, 180.0, "cli") == 0
        with st.engine.connect() as c:
            products = dict(c.execute(sa.text("SELECT sku, id FROM ingest_product")).all())  # type: ignore[arg-type]
        assert set(products) == {"PAGE-MUG", "PAGE-FLASK"}
        mug = await st.product(products["PAGE-MUG"])
        assert mug["status"] == "drafted"
        decision_id = mug["decision_id"]
        await st.wait_decision(decision_id, {"pending"})
        add_users(st.engine, ("alice", "approver"))

        async with serve(st) as base:
            context = await browser.new_context(base_url=base)
            page = await context.new_page()
            page.set_default_timeout(20_000)
            await page.goto("/approvals?type=listing_publish")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button:has-text('Log in')")
            await page.wait_for_selector("[data-testid=who]")
            await page.goto(f"/approvals/{decision_id}")

            # the photo: loaded through the signed-URL redirect, really decoded by the browser
            img = page.locator("[data-testid=listing-image]").first
            await img.wait_for()
            await page.wait_for_function(
                "() => { const i = document.querySelector('[data-testid=listing-image]');"
                " return i && i.complete && i.naturalWidth > 0; }"
            )
            # attributes with confidence and source; the barcode's EAN first of all
            ean = page.locator("[data-testid=attr-ean]")
            assert "barcode" in (await ean.inner_text())
            assert await page.locator("[data-testid=edit-attr\\.ean]").input_value() == "4006381333931"
            assert await page.locator("[data-testid=mp-ebay]").count() == 1
            assert await page.locator("[data-testid=mp-amazon]").count() == 0  # not chosen for the mug

            # the approver corrects the brand and the eBay price, then approves
            await page.fill("[data-testid=edit-attr\\.brand]", "Nordic Home Co")
            await page.fill("[data-testid=edit-price\\.ebay]", "24.50")
            await page.click("[data-testid=edit-approve]")
            flash = page.locator("[data-testid=flash]")
            await flash.wait_for()
            assert "approved" in (await flash.inner_text()).lower()
            await context.close()

        done = await st.wait_product(products["PAGE-MUG"], {"published", "failed"}, timeout=120)
        assert done["status"] == "published", done
        await st.wait_decision(decision_id, {"executed"})
        ebay = await st.listing("ebay", "PAGE-MUG")
        shopify = await st.listing("shopify", "PAGE-MUG")
        assert ebay is not None and Decimal(str(ebay["price"])) == Decimal("24.50") and ebay["quantity"] == 7
        assert shopify is not None and shopify["quantity"] == 7
        assert await st.listing("amazon", "PAGE-MUG") is None

        with read_session(st.engine) as s:
            labels = {
                lab.field: lab
                for lab in s.exec(
                    sa.select(IngestLabel).where(IngestLabel.decision_id == decision_id)
                ).scalars()  # type: ignore[call-overload]
            }
        assert labels["attr.brand"].accepted is False and labels["attr.brand"].final == "Nordic Home Co"
        assert labels["price.ebay"].accepted is False and labels["price.ebay"].final == "24.50"
        assert labels["attr.ean"].accepted is True and labels["attr.ean"].source == "barcode"
        assert labels["title"].accepted is True
