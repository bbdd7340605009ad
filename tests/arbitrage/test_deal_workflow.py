"""The deal workflow on the time-skipping server, with the real activities against the sandboxes: the `purchase`
decision's action really checks out on the classifieds sandbox and pays on the payments sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.arbitrage.tables import SavedSearch, ScanRun, SpendReservation
from merchflow.db.engine import read_session, session_scope
from tests.arbitrage.deal_harness import DealRig, deal_rig, seller_says
from tests.arbitrage.scenario import Scenario, e2e_scenario, listing
from workflows.arbitrage.contract import (
    RECEIVED_SIGNAL,
    SCAN_WORKFLOW,
    SELLER_REPLY_SIGNAL,
    SOLD_SIGNAL,
    ReceiptSignal,
    SaleSignal,
    ScanInput,
    ScanResult,
    SellerReplySignal,
    deal_workflow_id,
    scan_workflow_id,
)


def _silent_negotiator() -> Scenario:
    """The acceptance scenario with L-NEGO's seller silent unless the test speaks for them."""
    sc = e2e_scenario()
    for row in sc.listings:
        if row["id"] == "L-NEGO":
            row["behaviour"] = {"mode": "never"}
    return sc


def _spend(rig: DealRig, deal_id: str) -> SpendReservation | None:
    with read_session(rig.stack.engine) as s:
        return s.get(SpendReservation, deal_id)


def _captured(rig: DealRig) -> list[dict[str, Any]]:
    return [c for c in rig.charges() if c.get("captured")]


async def test_a_negotiated_deal_waits_five_days_for_the_reply_and_ten_for_delivery_then_lists_and_sells(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = deal_env
    async with deal_rig(tmp_path, env, task_queue, _silent_negotiator()) as rig:
        deal = rig.deal("L-NEGO")
        assert deal.action == "negotiate" and deal.max_price is not None
        async with rig.worker():
            handle = await rig.start("L-NEGO")
            st = await rig.status(handle, lambda s: s.waiting_for == "seller_reply")
            assert st.state == "negotiating" and st.offers_made == 1 and st.last_offer is not None
            assert st.last_offer <= deal.max_price
            sent = rig.messages("L-NEGO")
            assert sent and str(st.last_offer.quantize(Decimal(1))) in sent[-1]["text"]

            await env.sleep(timedelta(days=5))  # the seller takes five days to answer
            st = await rig.status(handle, lambda s: s.waiting_for == "seller_reply")
            msg = seller_says(rig, "L-NEGO", "ok deal, it's yours", agrees_to=st.last_offer)
            await handle.signal(
                SELLER_REPLY_SIGNAL, SellerReplySignal(message_id=str(msg["id"]), text=msg["text"])
            )
            # a webhook delivered twice is one reply
            await handle.signal(
                SELLER_REPLY_SIGNAL, SellerReplySignal(message_id=str(msg["id"]), text=msg["text"])
            )

            await rig.approve_purchase(deal.id)
            st = await rig.status(handle, lambda s: s.waiting_for == "delivery")
            assert st.state == "purchased" and st.agreed_price == st.last_offer
            charges = _captured(rig)
            intents = rig.stack.get("payments", "/_sandbox/payments/intents", deal=deal.id)
            assert len(charges) == 1 and [i["status"] for i in intents] == ["succeeded"]
            assert charges[0]["payment_intent"] == intents[0]["id"] == rig.deal("L-NEGO").payment_id
            assert [o["status"] for o in rig.orders("L-NEGO")] == ["paid"]
            assert _spend(rig, deal.id).status == "spent"  # type: ignore[union-attr]

            await env.sleep(timedelta(days=10))  # delivery takes ten days (inside the 14-day window)
            st = await rig.status(handle, lambda s: s.waiting_for == "delivery")
            await handle.signal(
                RECEIVED_SIGNAL, ReceiptSignal(condition="like_new", photos=[], received_by="bob")
            )
            st = await rig.status(handle, lambda s: s.state == "listed" and s.waiting_for == "sale")
            row = rig.deal("L-NEGO")
            assert row.sku is not None and row.list_price is not None and row.landed_cost is not None
            assert row.list_price > row.landed_cost  # landed cost + margin + fees

            await handle.signal(SOLD_SIGNAL, SaleSignal(sale_price=row.list_price, marketplace="amazon"))
            result = await handle.result()
    assert result.state == "sold" and result.realised_profit is not None
    final = rig.deal("L-NEGO")
    assert final.state == "sold" and final.realised_profit == result.realised_profit
    assert final.predicted_profit is not None


async def test_the_seller_never_answers_no_money_moves(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with deal_rig(tmp_path, deal_env, task_queue, _silent_negotiator()) as rig:
        async with rig.worker():
            handle = await rig.start("L-NEGO")
            result = await handle.result()  # the reply timer (a week) is skipped, the poll finds nothing
        assert result.state == "no_deal" and "never answered" in (result.reason or "")
        assert rig.orders("L-NEGO") == [] and rig.charges() == []
        assert _spend(rig, rig.deal("L-NEGO").id) is None


async def test_payment_declined_after_checkout_cancels_the_order_and_releases_the_budget(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with deal_rig(tmp_path, deal_env, task_queue, e2e_scenario()) as rig:
        rig.configure("payments", decline_next=1)
        deal = rig.deal("L-BUY")
        async with rig.worker():
            handle = await rig.start("L-BUY")
            await rig.approve_purchase(deal.id)
            result = await handle.result()
        assert result.state == "failed" and "payment declined" in (result.reason or "")
        assert [o["status"] for o in rig.orders("L-BUY")] == ["cancelled"]
        assert _captured(rig) == []
        assert _spend(rig, deal.id).status == "released"  # type: ignore[union-attr]
        assert rig.deal("L-BUY").state == "failed"


def _two_bargains() -> Scenario:
    sc = e2e_scenario()
    lego = next(p for p in sc.products if p.n == 102)
    sc.listings.append(listing("L-BUY2", lego, "50.00", seller="gina", photo=21))
    return sc


async def test_two_concurrent_deals_against_one_daily_cap_only_one_buys(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    limits = {"daily_spend_cap": "100"}  # either purchase fits, both do not
    async with deal_rig(
        tmp_path, deal_env, task_queue, _two_bargains(), arbitrage={"rules": {"limits": limits}}
    ) as rig:
        a, b = rig.deal("L-BUY"), rig.deal("L-BUY2")
        assert a.action == b.action == "buy"
        async with rig.worker():
            handles = await asyncio.gather(rig.start("L-BUY"), rig.start("L-BUY2"))
            states = await asyncio.gather(
                *(rig.status(h, lambda s: s.state in ("awaiting_approval", "skipped")) for h in handles)
            )
            by_state = {s.state: s for s in states}
            assert set(by_state) == {"awaiting_approval", "skipped"}, states
            assert "daily spend cap" in (by_state["skipped"].reason or "")
            winner = by_state["awaiting_approval"].deal_id
            await rig.approve_purchase(winner)
            won = next(h for h, s in zip(handles, states, strict=True) if s.deal_id == winner)
            await rig.status(won, lambda s: s.waiting_for == "delivery")
        assert len(_captured(rig)) == 1
        with read_session(rig.stack.engine) as s:
            held = {r.deal_id: r.status for r in s.exec(select(SpendReservation)).all()}
        assert held == {winner: "spent"}


async def test_the_scan_workflow_starts_one_deal_workflow_per_opportunity_only(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    rules = {"channels": ["amazon_fba"]}
    async with deal_rig(
        tmp_path, deal_env, task_queue, e2e_scenario(), scan=False, arbitrage={"rules": rules}
    ) as rig:
        with session_scope(rig.stack.engine) as s:
            search = SavedSearch(
                name="headphones and lego", source="classifieds", query={}, created_by="test"
            )
            s.add(search)
            s.flush()
            search_id = search.id
        assert search_id is not None
        async with rig.worker():
            result = await rig.client.execute_workflow(
                SCAN_WORKFLOW,
                ScanInput(search_id=search_id, batch_size=10),
                id=f"{scan_workflow_id(search_id)}-manual",
                task_queue=rig.task_queue,
                result_type=ScanResult,
            )
            assert (result.offers, result.duplicates, result.opportunities) == (7, 2, 2)
            assert result.skipped == 3  # gated brand, negative ROI after fees, no identifier
            expected = {rig.deal("L-BUY").id, rig.deal("L-NEGO").id}
            assert set(result.deals) == expected
            for deal_id in expected:  # each opportunity runs in its own workflow, outliving the scan
                handle = rig.client.get_workflow_handle(deal_workflow_id(deal_id))
                assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            # a second run of the same search finds only known offers and starts nothing
            again = await rig.client.execute_workflow(
                SCAN_WORKFLOW,
                ScanInput(search_id=search_id),
                id=f"{scan_workflow_id(search_id)}-manual-2",
                task_queue=rig.task_queue,
                result_type=ScanResult,
            )
            assert again.duplicates == again.offers == 7 and again.opportunities == 0
        with read_session(rig.stack.engine) as s:
            run = s.get(ScanRun, result.scan_id)
        assert run is not None and run.status == "completed" and run.offers == 7


async def test_an_item_never_delivered_is_refunded_and_the_order_cancelled(
    tmp_path: Path, deal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with deal_rig(tmp_path, deal_env, task_queue, e2e_scenario()) as rig:
        deal = rig.deal("L-BUY")
        async with rig.worker():
            handle = await rig.start("L-BUY")
            await rig.approve_purchase(deal.id)
            await rig.status(handle, lambda s: s.waiting_for == "delivery")
            assert len(_captured(rig)) == 1
            result = await handle.result()  # the 14-day delivery window runs out (time skipped)
        assert result.state == "refunded"
        [charge] = rig.charges()
        assert charge["refunded"] and charge["amount_refunded"] == charge["amount_captured"] > 0
        assert [o["status"] for o in rig.orders("L-BUY")] == ["cancelled"]
        assert _spend(rig, deal.id).status == "refunded"  # type: ignore[union-attr]
        assert rig.deal("L-BUY").state == "refunded"
