"""A full reconciliation started through the API: drift corrected, listings unknown to the master left alone and
reported, listings the marketplace lacks reported missing; status, report and the per-account progress query."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowExecutionStatus

from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing
from tests.conftest import make_token
from tests.stock.conftest import StackFactory
from tests.stock.waiting import eventually, marketplace_views, master_views


async def test_reconcile_through_the_api(stack_any_db: StackFactory, marketplaces: tuple[str, ...]) -> None:
    stock = {f"R-{i:03d}": 20 + i for i in range(300)}
    drifted = {f"R-{i:03d}" for i in range(0, 300, 30)}  # 10 SKUs show 5 too many
    missing = {f"R-{i:03d}" for i in range(290, 300)}  # listed in the master, gone from the marketplace
    on_marketplace = {
        sku: q + 5 if sku in drifted else q for sku, q in stock.items() if sku not in missing
    } | {"STRANGER-1": 4, "STRANGER-2": 0}  # listings the master does not know
    async with stack_any_db(stock=stock, sandbox_stock=dict.fromkeys(marketplaces, on_marketplace)) as st:
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            r = await api.post("/api/v1/stock/reconciles", json={"batch_size": 100})
            assert r.status_code == 202, r.text
            run = r.json()["id"]
            await st.client.get_workflow_handle(run).result()
            answer = await api.get(f"/api/v1/stock/reconciles/{run}")
            assert answer.status_code == 200, answer.text
            status = answer.json()
            report = (await api.get(f"/api/v1/stock/reconciles/{run}/report", params={"limit": 1000})).json()
            one = (
                await api.get(
                    f"/api/v1/stock/reconciles/{run}/report",
                    params={"account_id": st.accounts[marketplaces[0]], "limit": 5, "offset": 5},
                )
            ).json()
            assert (await api.get("/api/v1/stock/reconciles/no-such-run")).status_code == 404
            viewer = make_token(st.engine, "viewer")
            refused = await api.post(
                "/api/v1/stock/reconciles", json={}, headers={"authorization": f"Bearer {viewer}"}
            )
            assert refused.status_code == 403

        assert status["status"] == "completed"
        by_account = {a["account_id"]: a for a in status["accounts"]}
        assert set(by_account) == set(st.accounts.values())
        for a in by_account.values():
            assert a["status"] == "completed"
            assert (a["checked"], a["corrected"], a["unknown"], a["failed"]) == (292, 10, 2, 0), a
            assert a["drifted"] == 10 + 2 + 10  # corrected + unknown + missing
        # the progress query of each account's workflow answers, also once it has finished
        live = {p["account_id"]: p for p in status["live"]}
        assert {p["status"] for p in live.values()} == {"completed"}
        assert all(p["batches"] >= 2 for p in live.values())  # 100-SKU batches, rounded up to whole pages

        rows: dict[tuple[int, str], dict[str, Any]] = {
            (i["account_id"], i["sku"]): i for i in report["items"]
        }
        assert report["total"] == len(marketplaces) * 22
        for account_id in st.accounts.values():
            for sku in drifted - missing:
                row = rows[(account_id, sku)]
                assert (row["action"], row["outcome"]) == ("set", "applied")
                assert (row["expected"], row["found"]) == (stock[sku], stock[sku] + 5)
            for sku in missing:
                row = rows[(account_id, sku)]
                assert (row["action"], row["found"], row["expected"]) == (
                    "missing_on_marketplace",
                    None,
                    stock[sku],
                )
            for sku in ("STRANGER-1", "STRANGER-2"):
                row = rows[(account_id, sku)]
                assert (row["action"], row["outcome"], row["expected"]) == ("unknown_sku", "skipped", None)
        assert one["total"] == 22 and len(one["items"]) == 5

        # corrected where the master knows the SKU; strangers left exactly as they were
        views, wanted = await marketplace_views(st), await master_views(st)
        for mp in marketplaces:
            assert views[mp]["STRANGER-1"] == 4 and views[mp]["STRANGER-2"] == 0
            assert {s: q for s, q in views[mp].items() if s in stock} == {
                s: q for s, q in wanted[mp].items() if s not in missing
            }

        # operators find each account's run in the Temporal UI by Marketplace
        for mp, account_id in st.accounts.items():
            child = f"{run}-account-{account_id}"

            async def listed(child: str = child, mp: str = mp) -> list[Any]:
                query = f'WorkflowId = "{child}" AND Marketplace = "{mp}"'
                return [w async for w in st.client.list_workflows(query)]

            found = await eventually(listed, lambda ws: len(ws) == 1, what="visibility")
            assert found[0].status == WorkflowExecutionStatus.COMPLETED


async def test_an_account_whose_credentials_are_refused_fails_alone(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...]
) -> None:
    if "woocommerce" not in marketplaces:
        pytest.skip("uses the WooCommerce sandbox")
    stock = {"C-1": 5, "C-2": 6}
    bad = {
        "ck": {"consumer_key": SecretStr("ck_" + "0" * 40), "consumer_secret": SecretStr("cs_" + "0" * 40)}
    }
    async with stack_sqlite(
        stock=stock, sandbox_stock={mp: {"C-1": 1, "C-2": 6} for mp in marketplaces}
    ) as st:
        st.settings.marketplace_credentials.update(
            bad
        )  # the worker's settings object: read when adapters are built
        with session_scope(st.engine) as s:
            wrong = MarketplaceAccount(
                id=max(st.accounts.values()) + 1, marketplace="woocommerce", name="wrong-keys",
                credentials_ref="ck", base_url=st.sbx.url("woocommerce"),
            )  # fmt: skip
            s.add(wrong)
            s.flush()
            s.add(MarketplaceListing(account_id=wrong.id or 0, sku="C-1", status="active", quantity=5))
            wrong_id = wrong.id
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            run = (await api.post("/api/v1/stock/reconciles", json={"batch_size": 100})).json()["id"]
            result = await st.client.get_workflow_handle(run).result()
            answer = await api.get(f"/api/v1/stock/reconciles/{run}")
            assert answer.status_code == 200, answer.text
            status = answer.json()
            report = (
                await api.get(f"/api/v1/stock/reconciles/{run}/report", params={"account_id": wrong_id})
            ).json()
        by_account = {a["account_id"]: a for a in status["accounts"]}
        assert by_account[wrong_id]["status"] == "failed" and "AuthError" in by_account[wrong_id]["error"]
        assert report["total"] == 0  # nothing reported missing by a run that could not read the listings
        assert {r["status"] for r in result["runs"] if r["account_id"] != wrong_id} == {"completed"}
        for mp in marketplaces:
            assert await st.sbx.truth(mp, "C-1") == {"C-1": 5}
