"""`arbitrage-deal`: one opportunity, from the offer to the money back (weeks, durably).

negotiate (optional) -> limits + spend reservation -> `purchase` decision (its action buys: checkout, payment,
confirmation, capture, with compensations) -> wait for delivery (refund when it never comes) -> receive -> list ->
wait for the sale -> account for it.

Negotiation: offers are computed by the pure domain rules (never above the max price, at most `max_rounds`); an
offer above the approval threshold goes through an `arbitrage_offer` decision whose action sends it. Each seller
answer arrives as a signal (the classifieds webhook, via the API) and waits on a timer; when the timer runs out the
source is polled once (a webhook may have been lost) before the deal ends as "no deal". Seller messages are
untrusted: only an intent and an amount are read from them (domain.arbitrage.negotiation).

The deal's state is a search attribute (`DealState`) so operators filter deals in the Temporal UI, and the `state`
query answers the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.arbitrage.activities import ArbitrageDealActivities
    from domain.arbitrage.deals import (
        AWAITING_APPROVAL,
        DISCOVERED,
        FAILED,
        LISTED,
        NEGOTIATING,
        NO_DEAL,
        PURCHASED,
        RECEIVED,
        REJECTED,
        SKIPPED,
        UNSOLD,
    )
    from domain.arbitrage.negotiation import Move, SellerReply, message_for, next_move, opening_offer
    from merchflow.temporal import DEAL_STATE
    from workflows.arbitrage.contract import (
        CHECK_SALES_SIGNAL,
        DEAL_WORKFLOW,
        RECEIVED_SIGNAL,
        SELLER_REPLY_SIGNAL,
        SOLD_SIGNAL,
        STATE_QUERY,
        DealInput,
        DealResult,
        DealStatus,
        DealTransition,
        DealView,
        FindSaleInput,
        PollRepliesInput,
        ProposalInput,
        ReceiptSignal,
        ReceiveInput,
        RecordSaleInput,
        RefundInput,
        ReleaseInput,
        ReplyInput,
        ReserveInput,
        SaleSignal,
        SellerReplySignal,
        SendOfferInput,
        offer_decision_id,
        purchase_decision_id,
    )
    from workflows.common.retries import BOUNDED, DB, FAST, STEADY
    from workflows.decisions.contract import (
        DECISION_WORKFLOW,
        DecisionInput,
        DecisionResult,
        decision_workflow_id,
    )

_DB = {"start_to_close_timeout": DB, "retry_policy": FAST}
_CALL = {"start_to_close_timeout": timedelta(minutes=2), "retry_policy": STEADY}


@workflow.defn(name=DEAL_WORKFLOW)
class ArbitrageDealWorkflow:
    @workflow.init
    def __init__(self, inp: DealInput) -> None:
        self._id = inp.deal_id
        self._state = DISCOVERED if inp.resume == "start" else LISTED
        self._reason: str | None = None
        self._replies: list[SellerReplySignal] = []
        self._reply_ids: set[str] = set()
        self._receipt: ReceiptSignal | None = None
        self._sale: SaleSignal | None = None
        self._check_sales = False
        self._offers_made = 0
        self._last_offer: Decimal | None = None
        self._agreed: Decimal | None = None
        self._waiting_for: str | None = None
        self._deadline: datetime | None = None

    # ------------------------------------------------------------------ messages from outside
    @workflow.signal(name=SELLER_REPLY_SIGNAL)
    def seller_reply(self, reply: SellerReplySignal) -> None:
        if reply.message_id not in self._reply_ids:  # a webhook delivered twice is one reply
            self._reply_ids.add(reply.message_id)
            self._replies.append(reply)

    @workflow.signal(name=RECEIVED_SIGNAL)
    def received(self, receipt: ReceiptSignal) -> None:
        if self._receipt is None:
            self._receipt = receipt

    @workflow.signal(name=SOLD_SIGNAL)
    def sold(self, sale: SaleSignal) -> None:
        if self._sale is None:
            self._sale = sale

    @workflow.signal(name=CHECK_SALES_SIGNAL)
    def check_sales(self) -> None:
        self._check_sales = True

    @workflow.query(name=STATE_QUERY)
    def state(self) -> DealStatus:
        return DealStatus(deal_id=self._id, state=self._state, reason=self._reason, offers_made=self._offers_made,
                          last_offer=self._last_offer, agreed_price=self._agreed, waiting_for=self._waiting_for,
                          deadline=self._deadline)  # fmt: skip

    # ------------------------------------------------------------------ the deal
    @workflow.run
    async def run(self, inp: DealInput) -> DealResult:
        workflow.upsert_search_attributes([DEAL_STATE.value_set(self._state)])
        view = await workflow.execute_activity_method(
            ArbitrageDealActivities.deal_view, DealInput(deal_id=self._id), **_DB
        )
        if inp.resume == "sale":
            return await self._await_sale(view, inp.sale_deadline)
        price = view.target_price
        if view.action == "negotiate":
            if not view.can_message:
                return await self._end(SKIPPED, f"{view.source} takes no messages: cannot negotiate")
            agreed = await self._negotiate(view)
            if agreed is None:
                return await self._end(NO_DEAL, self._reason or "no agreement")
            price = agreed
        if not view.can_checkout:
            return await self._end(SKIPPED, f"{view.source} has no checkout: buy it by hand")
        # limits before any money moves: check and hold the amount in one atomic step
        held = await workflow.execute_activity_method(
            ArbitrageDealActivities.reserve, ReserveInput(deal_id=self._id, price=price), **_DB
        )
        if not held.ok:
            return await self._end(SKIPPED, "limits: " + "; ".join(held.violations))
        self._agreed = price
        await self._move(AWAITING_APPROVAL, f"buying for {held.amount} (price {price})", agreed_price=price)
        decision = await self._decide(
            await workflow.execute_activity_method(
                ArbitrageDealActivities.purchase_proposal, ProposalInput(deal_id=self._id, price=price), **_DB
            ),
            purchase_decision_id(self._id),
            waiting="approval",
        )
        if not decision.executed:
            await workflow.execute_activity_method(
                ArbitrageDealActivities.release, ReleaseInput(deal_id=self._id, status="released"), **_DB
            )
            final = FAILED if decision.status == "failed" else REJECTED
            return await self._end(final, f"purchase {decision.status}: {decision.message}")
        self._state = (
            PURCHASED  # recorded by the purchase action itself, in the same transaction as the order
        )
        workflow.upsert_search_attributes([DEAL_STATE.value_set(self._state)])
        return await self._deliver_and_sell(view)

    async def _deliver_and_sell(self, view: DealView) -> DealResult:
        timeout = timedelta(hours=view.delivery_timeout_hours)
        self._waiting_for, self._deadline = "delivery", workflow.now() + timeout
        try:
            await workflow.wait_condition(lambda: self._receipt is not None, timeout=timeout)
        except TimeoutError:
            self._waiting_for = self._deadline = None
            await workflow.execute_activity_method(
                ArbitrageDealActivities.refund,
                RefundInput(deal_id=self._id, reason=f"not delivered within {view.delivery_timeout_hours:g} hours"),
                start_to_close_timeout=timedelta(minutes=2), retry_policy=BOUNDED,
            )  # fmt: skip
            return await self._end_recorded("refunded", "not delivered: payment refunded")
        assert self._receipt is not None
        self._waiting_for = self._deadline = None
        await workflow.execute_activity_method(
            ArbitrageDealActivities.receive, ReceiveInput(deal_id=self._id, receipt=self._receipt),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=BOUNDED,
        )  # fmt: skip
        self._state = RECEIVED
        workflow.upsert_search_attributes([DEAL_STATE.value_set(self._state)])
        listed = await workflow.execute_activity_method(
            ArbitrageDealActivities.list_item, DealInput(deal_id=self._id),
            start_to_close_timeout=timedelta(minutes=10), retry_policy=BOUNDED,
        )  # fmt: skip
        if not listed.listed:
            self._reason = f"listing failed on {', '.join(listed.failed) or 'every account'}; fix and signal sold by hand"
        else:
            self._state = LISTED
            workflow.upsert_search_attributes([DEAL_STATE.value_set(self._state)])
        return await self._await_sale(view, workflow.now() + timedelta(days=view.max_hold_days))

    async def _await_sale(self, view: DealView, deadline: datetime | None) -> DealResult:
        deadline = deadline or workflow.now() + timedelta(days=view.max_hold_days)
        every = timedelta(minutes=view.sale_check_minutes)
        self._waiting_for, self._deadline = "sale", deadline
        while self._sale is None:
            left = deadline - workflow.now()
            if left <= timedelta(0):
                await workflow.execute_activity_method(
                    ArbitrageDealActivities.release, ReleaseInput(deal_id=self._id, status="released"), **_DB
                )
                return await self._end(UNSOLD, f"not sold within {view.max_hold_days:g} days")
            try:
                await workflow.wait_condition(
                    lambda: self._sale is not None or self._check_sales, timeout=min(every, left)
                )
            except TimeoutError:
                pass
            self._check_sales = False
            if self._sale is None:
                found = await workflow.execute_activity_method(
                    ArbitrageDealActivities.find_sale, FindSaleInput(deal_id=self._id), **_CALL
                )
                if found.sold and found.sale is not None:
                    self._sale = found.sale
            if self._sale is None and workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(DealInput(deal_id=self._id, resume="sale", sale_deadline=deadline))
        self._waiting_for = self._deadline = None
        booked = await workflow.execute_activity_method(
            ArbitrageDealActivities.record_sale, RecordSaleInput(deal_id=self._id, sale=self._sale), **_DB
        )
        self._state = "sold"
        workflow.upsert_search_attributes([DEAL_STATE.value_set(self._state)])
        return DealResult(
            deal_id=self._id, state=self._state, reason=self._reason, realised_profit=booked.realised_profit
        )

    # ------------------------------------------------------------------ negotiation
    async def _negotiate(self, view: DealView) -> Decimal | None:
        await self._move(NEGOTIATING, f"asking {view.asking_price} is above our max {view.max_price}")
        rules = view.rules
        move = opening_offer(asking=view.asking_price, max_price=view.max_price, rules=rules)
        while True:
            if move.kind == "walk_away":
                self._reason = move.reason
                return None
            if move.kind == "accept":
                assert move.amount is not None
                await self._send(move, view, "accept", opening=False)
                return move.amount
            self._offers_made += 1
            assert move.amount is not None
            if move.needs_approval:
                proposal = await workflow.execute_activity_method(
                    ArbitrageDealActivities.offer_proposal,
                    ProposalInput(deal_id=self._id, price=move.amount, round_no=self._offers_made), **_DB,
                )  # fmt: skip
                approved = await self._decide(
                    proposal, offer_decision_id(self._id, self._offers_made), waiting="approval"
                )
                if not approved.executed:  # the decision's action sent the offer when it was approved
                    self._reason = f"offer {move.amount} not approved ({approved.status})"
                    return None
            else:
                await self._send(move, view, f"r{self._offers_made}", opening=self._offers_made == 1)
            self._last_offer = move.amount
            reply = await self._reply(timedelta(hours=rules.reply_timeout_hours))
            if reply is None:
                self._reason = f"the seller never answered (waited {rules.reply_timeout_hours:g} hours)"
                return None
            read = await workflow.execute_activity_method(
                ArbitrageDealActivities.record_reply,
                ReplyInput(deal_id=self._id, external_id=reply.message_id, text=reply.text), **_DB,
            )  # fmt: skip
            move = next_move(SellerReply(intent=read.intent, amount=read.amount), last_offer=move.amount,  # type: ignore[arg-type]
                             offers_made=self._offers_made, max_price=view.max_price, rules=rules)  # fmt: skip

    async def _send(self, move: Move, view: DealView, key: str, *, opening: bool) -> None:
        round_no = self._offers_made if key.startswith("r") else 0
        await workflow.execute_activity_method(
            ArbitrageDealActivities.send_offer,
            SendOfferInput(deal_id=self._id, round_no=round_no, amount=move.amount,
                           text=message_for(move, opening=opening, currency=view.currency)),
            **_CALL,
        )  # fmt: skip

    async def _reply(self, timeout: timedelta) -> SellerReplySignal | None:
        self._waiting_for, self._deadline = "seller_reply", workflow.now() + timeout
        try:
            await workflow.wait_condition(lambda: bool(self._replies), timeout=timeout)
        except TimeoutError:
            polled = await workflow.execute_activity_method(
                ArbitrageDealActivities.poll_replies, PollRepliesInput(deal_id=self._id), **_CALL
            )
            for r in polled.replies:
                self.seller_reply(r)
        self._waiting_for = self._deadline = None
        return self._replies.pop(0) if self._replies else None

    # ------------------------------------------------------------------ helpers
    async def _decide(self, proposal, decision_id: str, *, waiting: str) -> DecisionResult:  # type: ignore[no-untyped-def]
        self._waiting_for = waiting
        try:
            return await workflow.execute_child_workflow(
                DECISION_WORKFLOW,
                DecisionInput(decision_id=decision_id, proposal=proposal),
                id=decision_workflow_id(decision_id),
                result_type=DecisionResult,
            )
        finally:
            self._waiting_for = None

    async def _move(self, state: str, reason: str | None = None, **fields: object) -> None:
        await workflow.execute_activity_method(
            ArbitrageDealActivities.transition,
            DealTransition(deal_id=self._id, state=state, reason=reason, fields=dict(fields)), **_DB,
        )  # fmt: skip
        self._state, self._reason = state, reason
        workflow.upsert_search_attributes([DEAL_STATE.value_set(state)])

    async def _end(self, state: str, reason: str) -> DealResult:
        await self._move(state, reason)
        return DealResult(deal_id=self._id, state=state, reason=reason)

    async def _end_recorded(self, state: str, reason: str) -> DealResult:
        """The activity already recorded the final state (refund): keep the workflow's view in step."""
        self._state, self._reason = state, reason
        workflow.upsert_search_attributes([DEAL_STATE.value_set(state)])
        return DealResult(deal_id=self._id, state=state, reason=reason)
