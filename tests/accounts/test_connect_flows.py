"""Each marketplace's connect flow end to end over HTTP against its sandbox: consent, callback, token exchange,
sealed credentials, a working account; a refused consent, a replayed callback, a forged Shopify callback, and a
consent revoked afterwards (the account ends "needs re-auth"). The same flows in Chromium: test_connect_browser."""

from __future__ import annotations

import httpx
import pytest

from tests.accounts.conftest import StackFactory
from tests.accounts.helpers import account_row, consent, json_of, query_of, tokens
from tests.stock.harness import Stack

SECRET_FIELD = {
    "amazon": "refresh_token",
    "ebay": "refresh_token",
    "shopify": "access_token",
    "woocommerce": "consumer_key",
}


async def _start(st: Stack, admin: httpx.AsyncClient, marketplace: str, name: str) -> tuple[int, str]:
    created = json_of(await admin.post("/api/v1/accounts", json={"marketplace": marketplace, "name": name}))
    assert created["status"] == "pending" and created["credentials"] == {}
    started = json_of(await admin.post(f"/api/v1/accounts/{created['id']}/connect"))
    return created["id"], started["consent_url"]


async def _back_to_engine(st: Stack, http: httpx.AsyncClient, answer: httpx.Response) -> httpx.Response:
    """Follow the marketplace's redirect to the engine's callback, as the browser would."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(st.api_url), location
    return await http.get(location)


@pytest.mark.parametrize("marketplace", ["ebay", "amazon", "shopify", "woocommerce"])
async def test_connect_refuse_replay_and_revoke(stack_sqlite: StackFactory, marketplace: str) -> None:
    async with stack_sqlite(marketplaces=(marketplace,)) as st, httpx.AsyncClient(timeout=60) as browser:
        t = tokens(st)
        async with st.api(t["admin"]) as admin:
            # --- consent given
            account_id, url = await _start(st, admin, marketplace, "mine")
            answer = await consent(browser, url, "allow")
            page = await _back_to_engine(st, browser, answer)
            assert page.status_code == 200 and "is connected" in page.text, page.text
            seen = json_of(await admin.get(f"/api/v1/accounts/{account_id}"))
            assert seen["status"] == "connected" and SECRET_FIELD[marketplace] in seen["credentials"]
            row = account_row(st.engine, account_id)
            assert row.credentials_sealed and "sandbox" not in row.credentials_sealed
            report = json_of(await admin.post(f"/api/v1/accounts/{account_id}/test"))
            assert report["ok"], report["summary"]

            # --- the same callback again (browser back button, a replay): refused, nothing changes
            if (
                marketplace == "woocommerce"
            ):  # the state travelled as user_id; the store's key post consumed it
                state = query_of(answer.headers["location"])["user_id"]
                keys = {
                    "user_id": state,
                    "consumer_key": "ck_" + "1" * 40,
                    "consumer_secret": "cs_" + "1" * 40,
                }
                replay = await browser.post(
                    f"{st.api_url}/api/v1/accounts/connect/woocommerce/keys", json=keys
                )
            else:
                replay = await browser.get(answer.headers["location"])
            assert replay.status_code == 400 and "already used" in replay.text, replay.text
            assert (
                SECRET_FIELD[marketplace]
                in json_of(await admin.get(f"/api/v1/accounts/{account_id}"))["credentials"]
            )

            # --- consent refused
            other_id, url = await _start(st, admin, marketplace, "refused")
            answer = await consent(browser, url, "deny")
            if (
                marketplace == "shopify"
            ):  # Shopify sends a merchant who cancels back to the admin, not to the app
                assert answer.status_code == 302 and "/admin/apps" in answer.headers["location"]
            else:
                page = await _back_to_engine(st, browser, answer)
                assert page.status_code == 400 and "Not connected" in page.text
                assert ("did not grant access" in page.text) or ("denied access" in page.text)
            assert json_of(await admin.get(f"/api/v1/accounts/{other_id}"))["status"] == "pending"

            # --- the seller revokes the app on the marketplace: the account needs re-auth, the sandbox one goes on
            revoked = await st.sbx.call(marketplace, "POST", "/_sandbox/grants/revoke", json={})
            assert revoked.json()["revoked"] >= 1
            report = json_of(await admin.post(f"/api/v1/accounts/{account_id}/test"))
            assert not report["ok"] and report["results"][0]["outcome"] == "refused"
            assert json_of(await admin.get(f"/api/v1/accounts/{account_id}"))["status"] == "needs_reauth"
            sandbox_account = st.accounts[marketplace]
            assert (
                json_of(await admin.post(f"/api/v1/accounts/{sandbox_account}/test"))["results"][0]["outcome"]
                == "ok"
            )


async def test_forged_shopify_callback_is_refused_and_keeps_the_state(stack_sqlite: StackFactory) -> None:
    async with (
        stack_sqlite(marketplaces=("shopify",), worker=False) as st,
        httpx.AsyncClient(timeout=60) as browser,
    ):
        t = tokens(st)
        async with st.api(t["admin"]) as admin:
            account_id, url = await _start(st, admin, "shopify", "mine")
            answer = await consent(browser, url, "allow")
            location = answer.headers["location"]
            forged = location.replace("hmac=", "hmac=0")
            page = await browser.get(forged)
            assert page.status_code == 400 and "signature" in page.text
            other_shop = location.replace("shop=127.0.0.1", "shop=evil.example.com")
            assert (await browser.get(other_shop)).status_code == 400
            # the genuine callback still works: a forged one did not use the state up
            page = await browser.get(location)
            assert page.status_code == 200 and "is connected" in page.text
            assert account_row(st.engine, account_id).status == "connected"


async def test_connect_on_postgres(stack_any_db: StackFactory) -> None:
    async with (
        stack_any_db(marketplaces=("ebay",), worker=False) as st,
        httpx.AsyncClient(timeout=60) as browser,
    ):
        t = tokens(st)
        async with st.api(t["admin"]) as admin:
            account_id, url = await _start(st, admin, "ebay", "mine")
            page = await _back_to_engine(st, browser, await consent(browser, url, "allow"))
            assert page.status_code == 200, page.text
            assert account_row(st.engine, account_id).status == "connected"
