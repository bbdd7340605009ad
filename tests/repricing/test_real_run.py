"""Real runs: the autonomy policy splits price changes into auto-approved (pushed in the same run) and waiting ones
(pushed once a person approves them, through the bulk decision executor and the account's price publish); partial
push failures are retried per item. Real Temporal, real sandboxes."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from activities.decisions.bulk import kick_batch_executor
from activities.decisions.service import decide, decide_many
from activities.decisions.tables import Decision
from activities.repricing.tables import PricingHistory, RepriceProposal
from merchflow.db.models import MarketplaceListing
from tests.repricing.harness import (
    MARKETPLACES,
    Item,
    RepriceStack,
    price_effects,
    sandbox_prices,
    set_price_policy,
    wait_for,
)
from workflows.decisions.contract import BATCH_EXECUTOR_ID, BulkDecideItem
from workflows.repricing.contract import PushPricesInput, RepriceBatchInput

_P = RepriceProposal.__table__  # type: ignore[attr-defined]
_D = Decision.__table__  # type: ignore[attr-defined]
_H = PricingHistory.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]


def _rows(st: RepriceStack, q: Any) -> list[Any]:
    with st.engine.connect() as c:
        return list(c.execute(q).all())


def _proposals(st: RepriceStack, run_id: str) -> dict[tuple[int, str], Any]:
    return {(r.account_id, r.sku): r for r in _rows(st, sa.select(_P).where(_P.c.run_id == run_id))}


def _expected_effects_are_attached(st: RepriceStack, run_id: str, props: dict[tuple[int, str], Any]) -> None:
    """Each decision carries the run's per-proposal margin / revenue change per day, so the approver sees it; they
    add up to the run's totals."""
    proposals = {r.id: r.proposal for r in _rows(st, sa.select(_D.c.id, _D.c.proposal))}
    by_decision = {p.decision_id: p for p in props.values()}
    revenue = margin = Decimal(0)
    for did, proposal in proposals.items():
        effect, row = proposal["expected_effect"], by_decision[did]
        assert proposal["currency"] == "USD" and "28 days" in effect["basis"] and effect["period"] == "day"
        assert effect["units_change_pct"] == round((row.expected_units_factor - 1) * 100, 2)
        revenue += Decimal(effect["revenue_delta"])
        margin += Decimal(effect["margin_delta"])
        assert {f["name"]: f.get("unit") for f in proposal["factors"]}["floor_price"] == "money"
    run = _rows(
        st,
        sa.text(
            "SELECT expected_revenue_delta, expected_margin_delta FROM reprice_run WHERE id = :i"
        ).bindparams(i=run_id),
    )[0]
    tolerance = Decimal("0.01") * len(proposals)  # each proposal rounded to cents, the run's sum once
    assert abs(revenue - Decimal(run[0])) <= tolerance and abs(margin - Decimal(run[1])) <= tolerance
    assert revenue != 0


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
        _expected_effects_are_attached(st, run_id, props)
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


async def test_an_account_starts_with_a_small_batch_and_pushes_every_range_once(stack_sqlite) -> None:
    """Batches grow from a small first one (the first marketplace call waits for it), at most two pushes are in
    flight per account, their SKU ranges follow the batches, and every price goes out exactly once."""
    catalog = {f"RP-{i:05d}": Item(stock=450) for i in range(1400)}  # every one marked down
    async with stack_sqlite(marketplaces=("woocommerce",), catalog=catalog) as st:
        set_price_policy(st.engine, "full-auto", threshold=0.0)
        run_id = "reprice-test-ramp-" + st.main_queue[-8:]
        result = await st.run(dry_run=False, wid=run_id, batch_size=5000)
        t = result.summary.totals
        assert (t.evaluated, t.proposed, t.pushed, t.push_failed, t.batches) == (1400, 1400, 1400, 0, 3)

        history = await st.client.get_workflow_handle(
            f"{run_id}-account-{st.accounts['woocommerce']}"
        ).fetch_history()
        batches, pushes, open_pushes, most_open = [], [], set(), 0
        convert = pydantic_data_converter.payload_converter
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                a = e.activity_task_scheduled_event_attributes
                if a.activity_type.name == "reprice-batch":
                    batches.append(convert.from_payloads(a.input.payloads, [RepriceBatchInput])[0])
                elif a.activity_type.name == "reprice-push-prices":
                    pushes.append(convert.from_payloads(a.input.payloads, [PushPricesInput])[0])
                    open_pushes.add(e.event_id)
                    most_open = max(most_open, len(open_pushes))
            elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                open_pushes.discard(e.activity_task_completed_event_attributes.scheduled_event_id)
        assert [b.limit for b in batches] == [250, 1000, 4000]
        assert [(p.after_sku, p.through_sku) for p in pushes] == [
            ("", "RP-00249"),
            ("RP-00249", "RP-01249"),
            ("RP-01249", "RP-01399"),
        ]
        assert 1 <= most_open <= 2

        props = {r.sku: r for r in _rows(st, sa.select(_P).where(_P.c.run_id == run_id))}
        assert len(props) == 1400 and {p.status for p in props.values()} == {"pushed"}
        live = await sandbox_prices(st.sbx, "woocommerce")
        assert all(live[sku] == Decimal(p.suggested_price) for sku, p in props.items())
        effects = await price_effects(st.sbx, "woocommerce")
        assert len(effects) == 1400 and len({e["entity"] for e in effects}) == 1400
        assert await st.sbx.duplicates("woocommerce") == []
