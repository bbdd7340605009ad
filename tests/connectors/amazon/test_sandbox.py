"""Sandbox fidelity that the adapter tests do not reach directly: asynchronous feeds under a real server,
presigned document URLs, SP-API headers and error shapes, persistence across restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from sandboxes.amazon.app import create_app
from tests.connectors.amazon.conftest import AmazonEnv, sandbox_settings


async def _token(c: httpx.AsyncClient) -> dict[str, str]:
    from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS as C

    form = {
        "grant_type": "refresh_token",
        **{k: C[k] for k in ("client_id", "client_secret", "refresh_token")},
    }
    return {"x-amz-access-token": (await c.post("/auth/o2/token", data=form)).json()["access_token"]}


async def test_feeds_progress_without_polling_on_a_real_server(live_amazon: AmazonEnv) -> None:
    # long enough that a loaded machine cannot skip over a state between two looks
    live_amazon.sbx.knobs.feed_queue_seconds = 0.5
    live_amazon.sbx.knobs.feed_progress_seconds = 0.5
    doc = {
        "header": {"sellerId": live_amazon.sbx.seller_id, "version": "2.0"},
        "messages": [
            {
                "messageId": 1,
                "sku": "DEMO-MUG-02",
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
                    }
                ],
            }
        ],
    }
    async with live_amazon.admin() as c:
        auth = await _token(c)
        created = (
            await c.post(
                "/feeds/2021-06-30/documents", headers=auth, json={"contentType": "application/json"}
            )
        ).json()
        assert (await c.put(created["url"], content=json.dumps(doc))).status_code == 200
        feed_id = (
            await c.post(
                "/feeds/2021-06-30/feeds",
                headers=auth,
                json={
                    "feedType": "JSON_LISTINGS_FEED",
                    "marketplaceIds": ["ATVPDKIKX0DER"],
                    "inputFeedDocumentId": created["feedDocumentId"],
                },
            )
        ).json()["feedId"]
        seen: list[str] = []
        for _ in range(500):  # read the store, not the API: no poll drives the state machine here
            row = live_amazon.sbx.state.store.one(
                "SELECT status FROM az_feed WHERE feed_id = ?", (int(feed_id),)
            )
            assert row is not None
            if not seen or seen[-1] != row["status"]:
                seen.append(row["status"])
            if row["status"] == "DONE":
                break
            await asyncio.sleep(0.02)
        assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
        assert (await live_amazon.listing("DEMO-MUG-02"))["quantity"] == 3  # type: ignore[index]
        feed = (await c.get(f"/feeds/2021-06-30/feeds/{feed_id}", headers=auth)).json()
        assert feed["processingStatus"] == "DONE" and feed["resultFeedDocumentId"]


async def test_presigned_urls_and_sp_api_headers(amazon: AmazonEnv) -> None:
    async with amazon.admin() as c:
        auth = await _token(c)
        created = await c.post(
            "/feeds/2021-06-30/documents", headers=auth, json={"contentType": "text/plain"}
        )
        assert created.status_code == 201
        assert created.headers["x-amzn-ratelimit-limit"] == "0.5" and created.headers["x-amzn-requestid"]
        url = created.json()["url"]
        forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        assert (await c.put(forged, content=b"x")).status_code == 403
        no_token = await c.get("/feeds/2021-06-30/feeds/1")
        assert no_token.status_code == 403 and no_token.json()["errors"][0]["code"] == "Unauthorized"
        missing = await c.get("/feeds/2021-06-30/feeds/424242", headers=auth)
        assert missing.status_code == 404 and set(missing.json()["errors"][0]) >= {"code", "message"}
        bad = await c.post(
            "/feeds/2021-06-30/feeds",
            headers=auth,
            json={
                "feedType": "JSON_LISTINGS_FEED",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "inputFeedDocumentId": "nope",
            },
        )
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "InvalidInput"
        unparsable = await c.get(
            "/listings/2021-08-01/items/A2MERCHFLOWSBX",
            headers=auth,
            params={"marketplaceIds": "ATVPDKIKX0DER", "pageSize": "x"},
        )
        assert unparsable.status_code == 400


async def test_feed_type_limit_answers_quota_exceeded(amazon: AmazonEnv) -> None:
    """Six JSON_LISTINGS_FEED feeds at once: the sixth is over the 5-per-5-minutes limit."""
    amazon.faults(rate_limits=True)
    async with amazon.admin() as c:
        auth = await _token(c)
        statuses = []
        for _ in range(6):
            doc = (
                await c.post("/feeds/2021-06-30/documents", headers=auth, json={"contentType": "x"})
            ).json()
            r = await c.post(
                "/feeds/2021-06-30/feeds",
                headers=auth,
                json={
                    "feedType": "JSON_LISTINGS_FEED",
                    "marketplaceIds": ["ATVPDKIKX0DER"],
                    "inputFeedDocumentId": doc["feedDocumentId"],
                },
            )
            statuses.append(r.status_code)
        assert statuses == [202] * 5 + [429]
        assert r.json() == {
            "errors": [
                {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}
            ]
        }
        assert 55 <= int(r.headers["retry-after"]) <= 60


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    first = create_app(settings)
    first.state.sandbox.webhook.url = None  # nobody listens
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as c:
        await c.post("/_sandbox/seed", json={"listings": [{"sku": "KEEP-1", "price": "3.50", "quantity": 4}]})
        await c.post("/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 1})
    first.state.sandbox.store.close()
    second = create_app(settings)  # seeds the demo catalog again: must not overwrite the changed quantity
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://a") as c:
        rows = {r["sku"]: r for r in (await c.get("/_sandbox/listings")).json()["listings"]}
    assert rows["KEEP-1"]["quantity"] == 4 and rows["DEMO-MUG-02"]["quantity"] == 239
    second.state.sandbox.store.close()


async def test_listing_attributes_with_fractional_numbers_are_stored(amazon: AmazonEnv) -> None:
    """Request bodies are parsed with exact decimals: a weight of 0.35 kg must be stored, not answered with a 500."""
    async with amazon.admin() as c:
        auth = await _token(c)
        path = "/listings/2021-08-01/items/A2MERCHFLOWSBX/FRACTION-1"
        mp = {"marketplaceIds": "ATVPDKIKX0DER"}
        body = {
            "productType": "PRODUCT",
            "requirements": "LISTING",
            "attributes": {
                "item_name": [{"value": "Steel flask", "marketplace_id": "ATVPDKIKX0DER"}],
                "item_weight": [{"value": 0.35, "unit": "kilograms", "marketplace_id": "ATVPDKIKX0DER"}],
                "purchasable_offer": [
                    {"currency": "USD", "our_price": [{"schedule": [{"value_with_tax": 12.5}]}],
                     "marketplace_id": "ATVPDKIKX0DER"}
                ],
            },
        }  # fmt: skip
        put = await c.put(path, headers=auth, params=mp, json=body)
        assert put.status_code == 200, put.text
        got = await c.get(path, headers=auth, params={**mp, "includedData": "attributes"})
        assert got.status_code == 200, got.text
        assert got.json()["attributes"]["item_weight"][0]["value"] == 0.35
