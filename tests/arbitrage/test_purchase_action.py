"""The `purchase` decision's action, through the decision executor's activity, against the sandboxes: a worker that
dies between the payment and the order's confirmation leaves one authorisation and no commit; the retried action
replays checkout and authorisation by key and completes with exactly one charge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.arbitrage import deal_steps
from activities.arbitrage.repository import get_deal
from activities.arbitrage.services import services
from activities.arbitrage.tables import SpendReservation
from activities.decisions.activities import DecisionActivities
from merchflow.db.engine import read_session
from merchflow.db.types import utcnow
from tests.arbitrage.deal_harness import scan_into_deals
from tests.arbitrage.harness import ArbStack, arb_stack
from tests.arbitrage.scenario import e2e_scenario
from workflows.arbitrage.contract import (
    PURCHASE_DECISION,
    DealTransition,
    ProposalInput,
    ReserveInput,
    deal_id_for,
    purchase_decision_id,
)
from workflows.decisions.contract import ExecuteInput, action_key


class WorkerKilled(BaseException):
    """Stands in for the process dying: not an Exception, so nothing on the way catches it; the unit of work
    rolls back as it would when the connection drops."""


def _awaiting_purchase(st: ArbStack, listing_id: str) -> ExecuteInput:
    deal_id = deal_id_for(f"classifieds:{listing_id}")
    with read_session(st.engine) as s:
        deal = get_deal(s, deal_id)
        assert deal is not None
        price = deal.asking_price
    held = deal_steps.reserve(
        st.engine, st.settings, ReserveInput(deal_id=deal_id, price=price), now=utcnow()
    )
    assert held.ok, held.violations
    deal_steps.transition(
        st.engine, DealTransition(deal_id=deal_id, state="awaiting_approval", fields={"agreed_price": price})
    )
    proposal = deal_steps.proposal(
        st.engine,
        st.settings,
        ProposalInput(deal_id=deal_id, price=price),
        kind=PURCHASE_DECISION,
        expires_in=timedelta(days=3),
    )
    did = purchase_decision_id(deal_id)
    return ExecuteInput(
        decision_id=did, version=1, idempotency_key=action_key(did, 1), proposal=proposal, approver="alice"
    )


async def test_worker_killed_between_payment_and_confirmation_charges_exactly_once(tmp_path: Path) -> None:
    with arb_stack(tmp_path) as st:
        await scan_into_deals(st, e2e_scenario())
        inp = _awaiting_purchase(st, "L-BUY")
        source = services(st.deps).source("classifieds")
        real_confirm = source.confirm

        def dies(*a: Any, **kw: Any) -> Any:
            raise WorkerKilled

        source.confirm = dies
        activities = DecisionActivities(st.deps)
        with pytest.raises(WorkerKilled):
            activities.execute_action(inp)
        # the card was authorised and the item checked out, but nothing was committed on our side
        intents = st.get("payments", "/_sandbox/payments/intents", deal=inp.proposal.subject)
        assert [i["status"] for i in intents] == ["requires_capture"]
        assert [
            o["status"] for o in st.get("classifieds", "/_sandbox/classifieds/orders", listing_id="L-BUY")
        ] != []

        source.confirm = real_confirm  # the retry, on a healthy worker
        done = activities.execute_action(inp)
        assert done.outcome == "executed", done
        again = activities.execute_action(inp)  # a duplicated approval / a retry after the commit
        assert again.outcome == "already_executed"

        charges = st.get("payments", "/_sandbox/payments/charges")
        assert len(charges) == 1 and charges[0]["captured"]
        intents = st.get("payments", "/_sandbox/payments/intents", deal=inp.proposal.subject)
        assert [i["status"] for i in intents] == ["succeeded"]
        orders = st.get("classifieds", "/_sandbox/classifieds/orders", listing_id="L-BUY")
        assert [o["status"] for o in orders] == ["paid"]
        with read_session(st.engine) as s:
            deal = get_deal(s, inp.proposal.subject)
            held = s.get(SpendReservation, inp.proposal.subject)
        assert deal is not None and deal.state == "purchased" and deal.payment_id == intents[0]["id"]
        assert held is not None and held.status == "spent"


async def test_a_purchase_above_the_max_price_is_refused_before_any_money_moves(tmp_path: Path) -> None:
    with arb_stack(tmp_path) as st:
        await scan_into_deals(st, e2e_scenario())
        inp = _awaiting_purchase(st, "L-BUY")
        with read_session(st.engine) as s:
            deal = get_deal(s, inp.proposal.subject)
            assert deal is not None and deal.max_price is not None
        edited = inp.proposal.model_copy(
            update={"proposed": {**inp.proposal.proposed, "price": str(deal.max_price + 1)}}
        )
        res = DecisionActivities(st.deps).execute_action(inp.model_copy(update={"proposal": edited}))
        assert res.outcome == "failed" and "above the computed max price" in res.message
        assert st.get("payments", "/_sandbox/payments/charges") == []
        assert st.get("classifieds", "/_sandbox/classifieds/orders", listing_id="L-BUY") == []
