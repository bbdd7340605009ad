"""Listing sync on the real stack: 10,000 listings mixed (by SKU, by GTIN, conflicting, unmatched) give the exact
report on every marketplace; an account whose consent is revoked mid-sync ends "needs re-auth" while another
account of the same marketplace syncs to the end."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from activities.listings.tables import ChannelListing
from merchflow.db.models import MarketplaceListing
from tests.accounts.conftest import StackFactory
from tests.accounts.helpers import consent, json_of, notices, tokens
from tests.listings.store import Mix, listings, seed_catalog
from tests.stock.harness import Stack
from tests.stock.waiting import eventually

MIX = Mix(by_sku=4000, by_gtin=3000, conflicts=500, unmatched=2500, extra_products=500)


async def _seed_store(st: Stack, marketplace: str, mix: Mix) -> None:
    items = listings(mix)
    for i in range(0, len(items), 20000):
        r = await st.sbx.call(
            marketplace, "POST", "/_sandbox/seed", json={"listings": items[i : i + 20000], "replace": i == 0}
        )
        r.raise_for_status()


async def _synced(api: httpx.AsyncClient, account_id: int, timeout: float = 600) -> dict:  # type: ignore[type-arg]
    r = await eventually(
        lambda: api.get(f"/api/v1/accounts/{account_id}/listing-sync"),
        lambda r: r.json().get("status") in ("completed", "failed"),
        timeout=timeout,
        what=f"listing sync of account {account_id}",
    )
    return r.json()  # type: ignore[no-any-return]


def _links(st: Stack, account_id: int) -> dict[str, tuple[str | None, str | None]]:
    link = MarketplaceListing.__table__  # type: ignore[attr-defined]
    with st.engine.connect() as conn:
        rows = conn.execute(
            sa.select(link.c.sku, link.c.marketplace_sku, link.c.link_method).where(
                link.c.account_id == account_id
            )
        )
        return {sku: (msku, method) for sku, msku, method in rows}


@pytest.mark.slow
@pytest.mark.parametrize("marketplace", ["amazon", "ebay", "shopify", "woocommerce"])
async def test_ten_thousand_listings_give_the_exact_report(
    stack_sqlite: StackFactory, marketplace: str
) -> None:
    async with stack_sqlite(
        marketplaces=(marketplace,), listing_sync={"batch_listings": 2000, "batches_per_run": 2}
    ) as st:
        seed_catalog(st.engine, MIX)
        await _seed_store(st, marketplace, MIX)
        account_id = st.accounts[marketplace]
        t = tokens(st)
        async with st.api(t["operator"]) as api:
            json_of(await api.post(f"/api/v1/accounts/{account_id}/listing-sync"))
            state = await _synced(api, account_id)
            assert state["status"] == "completed", state
            assert state["report"] == MIX.expected_report()

            links = _links(st, account_id)
            assert links["P-000000"] == (None, "sku")
            assert links[f"P-{MIX.by_sku:06d}"] == (
                f"MK-{MIX.by_sku:06d}",
                "gtin",
            )  # the marketplace's own SKU kept
            conflicts = json_of(
                await api.get(
                    "/api/v1/listings", params={"account_id": account_id, "state": "conflict", "limit": 1000}
                )
            )
            assert len(conflicts["items"]) == MIX.conflicts
            assert all("same SKU, different product" in c["conflict"] for c in conflicts["items"])

            # a second sync finds everything linked already: nothing new, the same picture
            json_of(await api.post(f"/api/v1/accounts/{account_id}/listing-sync"))
            again = await _synced_after(api, account_id, state["run_id"])
            assert again["report"] == {**MIX.expected_report(), "created": 0, "by_sku": 0, "by_identifier": 0}


async def test_listing_sync_on_either_database(stack_any_db: StackFactory) -> None:
    """The same staging, matching and link writes on PostgreSQL as on SQLite (a smaller mix, continue-as-new
    included): the exact report, the GTIN link under the marketplace's own SKU, and a second sync that adds nothing."""
    mix = Mix(by_sku=300, by_gtin=200, conflicts=50, unmatched=150, extra_products=40)
    async with stack_any_db(
        marketplaces=("woocommerce",), listing_sync={"batch_listings": 100, "batches_per_run": 2}
    ) as st:
        seed_catalog(st.engine, mix)
        await _seed_store(st, "woocommerce", mix)
        account_id = st.accounts["woocommerce"]
        async with st.api(tokens(st)["operator"]) as api:
            json_of(await api.post(f"/api/v1/accounts/{account_id}/listing-sync"))
            state = await _synced(api, account_id)
            assert state["status"] == "completed", state
            assert state["report"] == mix.expected_report()
            links = _links(st, account_id)
            assert links["P-000000"] == (None, "sku")
            assert links[f"P-{mix.by_sku:06d}"] == (f"MK-{mix.by_sku:06d}", "gtin")

            json_of(await api.post(f"/api/v1/accounts/{account_id}/listing-sync"))
            again = await _synced_after(api, account_id, state["run_id"])
            assert again["report"] == {**mix.expected_report(), "created": 0, "by_sku": 0, "by_identifier": 0}


async def _synced_after(api: httpx.AsyncClient, account_id: int, previous_run: str) -> dict:  # type: ignore[type-arg]
    r = await eventually(
        lambda: api.get(f"/api/v1/accounts/{account_id}/listing-sync"),
        lambda r: (
            r.json().get("run_id") != previous_run and r.json().get("status") in ("completed", "failed")
        ),
        timeout=600,
        what="the second sync",
    )
    return r.json()  # type: ignore[no-any-return]


async def test_revoked_mid_sync_needs_reauth_and_the_other_account_goes_on(
    stack_sqlite: StackFactory,
) -> None:
    mix = Mix(by_sku=1500, by_gtin=500, conflicts=0, unmatched=1000, extra_products=0)
    async with (
        stack_sqlite(marketplaces=("woocommerce",), listing_sync={"batch_listings": 100}) as st,
        httpx.AsyncClient(timeout=60) as browser,
    ):
        seed_catalog(st.engine, mix)
        await _seed_store(st, "woocommerce", mix)
        await st.sbx.faults("woocommerce", latency_ms=40)  # slow enough that the revocation lands mid-sync
        other = st.accounts["woocommerce"]
        t = tokens(st)
        async with st.api(t["admin"]) as admin:
            created = json_of(
                await admin.post("/api/v1/accounts", json={"marketplace": "woocommerce", "name": "seller"})
            )
            mine = created["id"]
            url = json_of(await admin.post(f"/api/v1/accounts/{mine}/connect"))["consent_url"]
            answer = await consent(
                browser, url, "allow"
            )  # the keys reach the engine; its listing sync starts
            assert answer.status_code == 302
            json_of(await admin.post(f"/api/v1/accounts/{other}/listing-sync"))

            def staged(account_id: int) -> int:
                ch = ChannelListing.__table__  # type: ignore[attr-defined]
                with st.engine.connect() as conn:
                    return int(
                        conn.execute(
                            sa.select(sa.func.count()).where(ch.c.account_id == account_id)
                        ).scalar_one()
                    )

            async def mine_staged() -> int:
                return staged(mine)

            await eventually(
                mine_staged, lambda n: n > 0, timeout=120, what="the connected account's first batch"
            )
            revoked = (await st.sbx.call("woocommerce", "POST", "/_sandbox/grants/revoke", json={})).json()[
                "revoked"
            ]
            assert revoked >= 1

            state = await _synced(admin, mine)
            assert state["status"] == "failed" and "Consumer key is invalid" in state["error"], state
            assert 0 < state["report"]["listings"] < mix.listings  # it stopped part-way
            account = json_of(await admin.get(f"/api/v1/accounts/{mine}"))
            assert account["status"] == "needs_reauth"
            assert len(notices(st.engine, "account_needs_reauth")) == 1

            done = await _synced(admin, other)
            assert done["status"] == "completed" and done["report"]["listings"] == mix.listings
            assert done["report"]["linked"] == mix.by_sku + mix.by_gtin
