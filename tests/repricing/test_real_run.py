"""Real runs: the autonomy policy splits price changes into auto-approved (pushed in the same run) and waiting ones
(pushed once a person approves them, through the bulk decision executor and the account's price publish); partial
push failures are retried per item. Real Temporal, real sandboxes."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from temporalio.client import Client
from temporalio.service import RPCError

from merchflow.db.models import Decision, MarketplaceListing, PricingHistory
from merchflow.db.pricing import RepriceProposal
from merchflow.decisions.bulk import BATCH_EXECUTOR_ID, kick_batch_executor
from merchflow.decisions.service import BulkDecideItem, decide, decide_many
from tests.repricing.harness import (
    MARKETPLACES,
    Item,
    RepriceStack,
    sandbox_prices,
    set_price_policy,
    wait_for,
)

_P = RepriceProposal.__table__  # type: ignore[attr-defined]
_D = Decision.__table__  # type: ignore[attr-defined]
_H = PricingHistory.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]


def _rows(st: RepriceStack, q: Any) -> list[Any]:
    with st.engine.connect() as c:
        return list(c.execute(q).all())


def _proposals(st: RepriceStack, run_id: str) -> dict[tuple[int, str], Any]:
    return {(r.account_id, r.sku): r for r in _rows(st, sa.select(_P).where(_P.c.run_id == run_id))}


async def _no_stale_executor(client: Client) -> None:
    """The bulk executor has one fixed id per namespace: one left running by an earlier test on another task queue
    would swallow this test's nudge."""
    with contextlib.suppress(RPCError):
        await client.get_workflow_handle(BATCH_EXECUTOR_ID).terminate("stale executor of another test")


async def test_full_auto_pushes_confident_changes_and_the_rest_wait_for_approval(stack_any_db) -> None:
    async with stack_any_db(marketplaces=MARKETPLACES) as st:
        # confidence is 0.62 (competitor) and 0.54 (low stock) for the two small moves, 0.52 for the 12.5 % markdowns
        set_price_policy(st.engine, "full-auto", threshold=0.53)
        run_id = "reprice-test-auto-" + st.main_queue[-8:]
        result = await st.run(dry_run=False, wid=run_id)
        t = result.summary.totals
        n = len(st.accounts)
        assert (t.proposed, t.auto_approved, t.pending, t.pushed, t.push_failed) == (
            4 * n,
            2 * n,
            2 * n,
            2 * n,
            0,
        )

        props = _proposals(st, run_id)
        for mp, account_id in st.accounts.items():
            live = await sandbox_prices(st.sbx, mp)
            for sku in ("RP-COMP", "RP-LOW"):  # auto-approved: live now, in the same run
                p = props[(account_id, sku)]
                assert p.status == "pushed" and live[sku] == Decimal(p.suggested_price)
            for sku in ("RP-AGED", "RP-HIGH", "RP-STEADY"):  # waiting (or unchanged): untouched
                assert live[sku] == Decimal(st.catalog[sku].price)
            assert (await st.sbx.duplicates(mp)) == []
        decisions = {r.id: r.status for r in _rows(st, sa.select(_D.c.id, _D.c.status))}
        assert sorted(decisions.values()).count("executed") == 2 * n and len(decisions) == 4 * n
        history = _rows(st, sa.select(_H))
        assert len(history) == 2 * n and {h.approved_by for h in history} == {"auto"}
        comp = next(h for h in history if h.sku == "RP-COMP")
        assert (comp.old_price, comp.new_price) == (
            Decimal("40"),
            Decimal(props[(comp.account_id, "RP-COMP")].suggested_price),
        )
        assert (
            "competitor" in comp.reason and comp.confidence == props[(comp.account_id, "RP-COMP")].confidence
        )
        listing = {(r.account_id, r.sku): r for r in _rows(st, sa.select(_L))}
        assert all(r.target_price is None for r in listing.values())

        # a person approves one waiting change and edits another: both go live through the account's publish
        await _no_stale_executor(st.client)
        woo = st.accounts["woocommerce"]
        aged, high = props[(woo, "RP-AGED")], props[(woo, "RP-HIGH")]
        assert aged.status == high.status == "pending"
        out = await decide_many(
            st.client, st.engine, [BulkDecideItem(decision_id=aged.decision_id, expected_version=1)],
            action="approve", actor="alice", role="approver", task_queue=st.main_queue,
        )  # fmt: skip
        assert out[0].ok, out
        await decide(
            st.client, decision_id=high.decision_id, action="edit_approve", actor="bob", role="approver",
            expected_version=1, edited_value={"price": "36.49"}, engine=st.engine,
        )  # fmt: skip
        await kick_batch_executor(st.client, task_queue=st.main_queue)

        async def live_on_woo() -> bool:
            live = await sandbox_prices(st.sbx, "woocommerce")
            return live["RP-AGED"] == Decimal(aged.suggested_price) and live["RP-HIGH"] == Decimal("36.49")

        await wait_for(live_on_woo, timeout=60)
        by_sku = {h.sku: h for h in _rows(st, sa.select(_H).where(_H.c.account_id == woo))}
        assert (by_sku["RP-AGED"].approved_by, by_sku["RP-AGED"].new_price) == (
            "alice",
            Decimal(aged.suggested_price),
        )
        assert (by_sku["RP-HIGH"].approved_by, by_sku["RP-HIGH"].new_price) == ("bob", Decimal("36.49"))
        after = _proposals(st, run_id)
        await wait_for(lambda: _proposals(st, run_id)[(woo, "RP-HIGH")].status == "pushed", timeout=30)
        assert after[(woo, "RP-AGED")].status in ("approved", "pushed")
        # the other accounts' waiting changes are still waiting, and untouched on their marketplaces
        assert (await sandbox_prices(st.sbx, "ebay"))["RP-AGED"] == Decimal("40")
        assert (await st.sbx.duplicates("woocommerce")) == []

        # stable: a run right after proposes nothing new for what went live
        again = await st.run(dry_run=True, wid=run_id + "-again")
        second = _proposals(st, run_id + "-again")
        assert not any(sku in ("RP-COMP", "RP-LOW") for _, sku in second), second.keys()
        assert again.summary.totals.proposed == len(second)


async def test_partial_push_failures_are_retried_per_item(stack_sqlite) -> None:
    catalog = {f"RP-{i:02d}": Item(stock=450) for i in range(6)}  # every one marked down
    catalog["RP-GONE"] = Item(stock=450)  # listed in the master, unknown to eBay: refused for good
    sandbox = [k for k in catalog if k != "RP-GONE"]
    async with stack_sqlite(marketplaces=("ebay",), catalog=catalog, sandbox_skus={"ebay": sandbox}) as st:
        set_price_policy(st.engine, "full-auto", threshold=0.0)
        # eBay answers 25025 (concurrent access, HTTP 500 for that item) once for these two SKUs
        cfg = (await st.sbx.call("ebay", "GET", "/_sandbox/ebay/config")).json()
        cfg["concurrent_access_skus"] = ["RP-01", "RP-04"]
        (await st.sbx.call("ebay", "PUT", "/_sandbox/ebay/config", json=cfg)).raise_for_status()
        before = await st.sbx.requests("ebay")

        result = await st.run(dry_run=False, wid="reprice-test-partial-" + st.main_queue[-8:])

        t = result.summary.totals
        assert (t.proposed, t.auto_approved, t.pushed, t.push_rejected, t.push_failed) == (7, 7, 6, 1, 0)
        live = await sandbox_prices(st.sbx, "ebay")
        props = {r.sku: r for r in _rows(st, sa.select(_P))}
        for sku in sandbox:
            assert props[sku].status == "pushed" and live[sku] == Decimal(props[sku].suggested_price)
        gone = _rows(st, sa.select(_L).where(_L.c.sku == "RP-GONE"))[0]
        assert (
            props["RP-GONE"].status == "failed"
            and gone.target_price is None
            and "no_offer" in gone.sync_error
        )
        # one bulk call for the batch, then one retry carrying just the two failed items
        bulk = [r for r in await st.sbx.requests("ebay") if r["id"] > (before[-1]["id"] if before else 0)
                and r["path"].endswith("/bulk_update_price_quantity")]  # fmt: skip
        assert len(bulk) == 2
        effects = [
            e for e in (await st.sbx.call("ebay", "GET", "/_sandbox/effects")).json() if e["field"] == "price"
        ]
        assert sorted(e["entity"] for e in effects) == sorted(f"sku:{k}" for k in sandbox)
        assert [e["request_id"] for e in effects if e["entity"] in ("sku:RP-01", "sku:RP-04")] == [
            bulk[1]["id"]
        ] * 2
