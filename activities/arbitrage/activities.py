"""The arbitrage activities: thin adapters over the scan engine, the deal's bookkeeping, its messages, its refund,
and the resale steps. Connectors come from the composition root (`activities.arbitrage.services`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.arbitrage import deal_steps, resale
from activities.arbitrage import repository as repo
from activities.arbitrage.scan import Scanner
from activities.arbitrage.services import services
from activities.arbitrage.tables import SavedSearch
from activities.common.errors import to_application_error
from activities.common.heartbeats import beat_every, heartbeat, kept_alive
from connectors.arbitrage_sources.port import SearchQuery, Unavailable
from connectors.errors import ConnectorError
from connectors.marketplace.types import ListingDraft
from domain.arbitrage.deals import LISTED, REFUNDED, SOLD
from domain.arbitrage.limits import spend_day
from domain.decisions.rules import Proposal
from merchflow.db.engine import read_session, session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.arbitrage.contract import (
    OFFER_DECISION,
    PURCHASE_DECISION,
    DealInput,
    DealTransition,
    DealView,
    FindSaleInput,
    FindSaleResult,
    FinishScanInput,
    PollRepliesInput,
    PollRepliesResult,
    ProposalInput,
    ReceiveInput,
    ReceiveResult,
    RecordSaleInput,
    RecordSaleResult,
    RefundInput,
    RefundResult,
    ReleaseInput,
    ReplyInput,
    ReplyResult,
    ReserveInput,
    ReserveResult,
    SaleSignal,
    ScanBatchInput,
    ScanBatchResult,
    ScanPlan,
    SellerReplySignal,
    SendOfferInput,
    SendOfferResult,
    StartScanInput,
)

log = get_logger(__name__)


class ArbitrageScanActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @activity.defn(name="arbitrage.scan_start")
    def scan_start(self, inp: StartScanInput) -> ScanPlan:
        """Record the run; returns the saved search's offer budget per run and the batch size."""
        info = activity.info()
        with session_scope(self.deps.engine) as s:
            search = s.get(SavedSearch, inp.search_id)
            if search is None:
                raise ApplicationError(
                    f"no saved search {inp.search_id}", type="NotFoundError", non_retryable=True
                )
            repo.start_scan(s, scan_id=info.workflow_id, search_id=inp.search_id)
            search.last_run_at = utcnow()
            s.add(search)
            return ScanPlan(max_offers=search.max_offers if search.enabled else 0,
                            batch_size=self.deps.settings.arbitrage.batch_size)  # fmt: skip

    @activity.defn(name="arbitrage.scan_batch")
    async def scan_batch(self, inp: ScanBatchInput) -> ScanBatchResult:
        svc = services(self.deps)
        with read_session(self.deps.engine) as s:
            search = s.get(SavedSearch, inp.search_id)
            if search is None:
                raise ApplicationError(
                    f"no saved search {inp.search_id}", type="NotFoundError", non_retryable=True
                )
            source_name, query = search.source, SearchQuery.model_validate(search.query)
        cfg = self.deps.settings.arbitrage
        scanner = Scanner(engine=self.deps.engine, source=svc.source(source_name), market=svc.market,
                          config=cfg.rules, page_size=cfg.page_size, on_page=lambda c: heartbeat(c))  # fmt: skip
        try:
            async with kept_alive(every=beat_every()):
                return await scanner.run(scan_id=inp.scan_id, search_id=inp.search_id, query=query, cursor=inp.cursor,
                                         limit=inp.limit, day=spend_day(utcnow(), self.deps.settings.time_zone))  # fmt: skip
        except ConnectorError as exc:
            raise to_application_error(exc) from exc

    @activity.defn(name="arbitrage.scan_finish")
    def scan_finish(self, inp: FinishScanInput) -> None:
        from activities.arbitrage.tables import ScanRun

        with session_scope(self.deps.engine) as s:
            run = s.get(ScanRun, inp.scan_id)
            if run is not None:
                run.status, run.finished_at = inp.status, utcnow()
                s.add(run)


class ArbitrageDealActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.engine, self.settings = deps.engine, deps.settings

    # ---- bookkeeping (sync, thread pool) ------------------------------------------------------------------------
    @activity.defn(name="arbitrage.deal_view")
    def deal_view(self, inp: DealInput) -> DealView:
        with read_session(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id)
            if deal is None:
                raise ApplicationError(f"no deal {inp.deal_id}", type="NotFoundError", non_retryable=True)
            name = deal.source
        try:
            src = services(self.deps).source(name)
            caps = (bool(getattr(src, "can_message", False)), bool(getattr(src, "can_checkout", False)))
        except KeyError:
            caps = (False, False)
        return deal_steps.view(
            self.engine, self.settings, inp.deal_id, can_message=caps[0], can_checkout=caps[1]
        )

    @activity.defn(name="arbitrage.transition")
    def transition(self, inp: DealTransition) -> bool:
        return deal_steps.transition(self.engine, inp)

    @activity.defn(name="arbitrage.record_reply")
    def record_reply(self, inp: ReplyInput) -> ReplyResult:
        return deal_steps.record_reply(self.engine, inp)

    @activity.defn(name="arbitrage.reserve")
    def reserve(self, inp: ReserveInput) -> ReserveResult:
        return deal_steps.reserve(self.engine, self.settings, inp, now=utcnow())

    @activity.defn(name="arbitrage.release")
    def release(self, inp: ReleaseInput) -> None:
        deal_steps.release(self.engine, inp.deal_id, inp.status)

    @activity.defn(name="arbitrage.purchase_proposal")
    def purchase_proposal(self, inp: ProposalInput) -> Proposal:
        return deal_steps.proposal(
            self.engine, self.settings, inp, kind=PURCHASE_DECISION, expires_in=timedelta(days=3)
        )

    @activity.defn(name="arbitrage.offer_proposal")
    def offer_proposal(self, inp: ProposalInput) -> Proposal:
        return deal_steps.proposal(
            self.engine, self.settings, inp, kind=OFFER_DECISION, expires_in=timedelta(days=2)
        )

    # ---- the seller --------------------------------------------------------------------------------------------
    @activity.defn(name="arbitrage.send_offer")
    async def send_offer(self, inp: SendOfferInput) -> SendOfferResult:
        """Send once per round (round 0: our acceptance): a retried attempt finds its message recorded and does not
        send it again. A crash between sending and recording sends it twice - a message, never money."""
        key = f"r{inp.round_no}" if inp.round_no else "accept"

        def sent_before() -> bool:
            with read_session(self.engine) as s:
                return any(
                    m.direction == "out" and m.external_id == key for m in repo.messages(s, inp.deal_id)
                )

        if await asyncio.to_thread(sent_before):
            return SendOfferResult(external_id=key, sent=False)
        with read_session(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id)
            assert deal is not None
            source_name, source_id = deal.source, deal.source_id
        try:
            external = (
                await services(self.deps).source(source_name).send_message(source_id, inp.text, inp.amount)
            )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc

        def record() -> None:
            with session_scope(self.engine) as s:
                repo.record_message(
                    s, deal_id=inp.deal_id, direction="out", external_id=key, text=inp.text, amount=inp.amount
                )

        await asyncio.to_thread(record)
        return SendOfferResult(external_id=external, sent=True)

    @activity.defn(name="arbitrage.poll_replies")
    async def poll_replies(self, inp: PollRepliesInput) -> PollRepliesResult:
        """The seller's messages read from the source (a webhook may have been lost): those not handled yet."""
        with read_session(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id)
            assert deal is not None
            handled = {m.external_id for m in repo.messages(s, inp.deal_id) if m.direction == "in"}
            source_name, source_id = deal.source, deal.source_id
        source = services(self.deps).source(source_name)
        if not hasattr(source, "messages"):
            return PollRepliesResult(replies=[])
        try:
            found = await source.messages(source_id, None)
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return PollRepliesResult(replies=[SellerReplySignal(message_id=m.id, text=m.text) for m in found
                                          if m.sender == "seller" and m.id not in handled])  # fmt: skip

    # ---- money back ----------------------------------------------------------------------------------------------
    @activity.defn(name="arbitrage.refund")
    def refund(self, inp: RefundInput) -> RefundResult:
        """The compensation after a paid purchase that never arrived: refund the charge, cancel the order (both
        keyed by deal, so a retry refunds nothing twice), close the spend and the deal."""
        with read_session(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id)
            assert deal is not None
        svc = services(self.deps)
        refunded = Decimal(0)
        try:
            if deal.payment_id:
                refunded = svc.payments.refund(
                    deal.payment_id, idempotency_key=f"{deal.id}:refund", reason=inp.reason
                ).amount
            cancelled = False
            if deal.order_id:
                try:
                    svc.source(deal.source).cancel(deal.order_id, idempotency_key=f"{deal.id}:refund-cancel")
                    cancelled = True
                except Unavailable:
                    cancelled = False  # shipped or closed on the source's side; the money is back either way
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        with session_scope(self.engine) as s:
            repo.set_spend(s, deal_id=deal.id, status="refunded")
            repo.transition(s, deal_id=deal.id, state=REFUNDED, reason=inp.reason, actor="system", fields={})
        return RefundResult(refunded=refunded, order_cancelled=cancelled)

    # ---- resale ------------------------------------------------------------------------------------------------
    @activity.defn(name="arbitrage.receive")
    def receive(self, inp: ReceiveInput) -> ReceiveResult:
        sku, landed = resale.receive(self.engine, deal_id=inp.deal_id, condition=inp.receipt.condition,
                                     photos=inp.receipt.photos, actor=inp.receipt.received_by)  # fmt: skip
        with read_session(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id)
            assert deal is not None
            accounts = resale.resale_accounts(s, self.settings)
        today = spend_day(utcnow(), self.settings.time_zone)
        prices = [resale.list_price(deal, marketplace=a.marketplace, settings=self.settings, today=today, landed=landed)
                  for a in accounts]  # fmt: skip
        return ReceiveResult(sku=sku, landed_cost=landed, list_price=max(prices) if prices else landed)

    @activity.defn(name="arbitrage.list_item")
    async def list_item(self, inp: DealInput) -> ReceiveResult:
        """Create the listing on every resale account (each priced by the pricing engine for its own fees); one
        account failing never blocks the others. The deal is listed once at least one listing is live."""

        def load():  # type: ignore[no-untyped-def]
            with read_session(self.engine) as s:
                deal = repo.get_deal(s, inp.deal_id)
                return deal, resale.resale_accounts(s, self.settings)

        deal, accounts = await asyncio.to_thread(load)
        assert deal is not None and deal.sku is not None and deal.landed_cost is not None
        registry = self.deps.services["marketplaces"]
        today = spend_day(utcnow(), self.settings.time_zone)
        listed, failed, prices = [], [], []
        for acc in accounts:
            price = resale.list_price(
                deal,
                marketplace=acc.marketplace,
                settings=self.settings,
                today=today,
                landed=deal.landed_cost,
            )
            ids = {"asin": deal.asin} if deal.asin else {}
            if (deal.product_key or "").startswith("gtin:"):
                gtin = deal.product_key.partition(":")[2]  # type: ignore[union-attr]
                ids["upc" if gtin.startswith("00") else "ean"] = (
                    gtin[2:] if gtin.startswith("00") else gtin[1:]
                )
            draft = ListingDraft(sku=deal.sku, title=deal.title[:200], price=price, currency=deal.currency, quantity=1,
                                 brand=deal.brand, category=deal.category, identifiers=ids,
                                 condition="used" if deal.received_condition not in ("new", "sealed") else "new")  # fmt: skip
            try:
                result = await registry.get(acc.id).create_listing(
                    draft, idempotency_key=f"{deal.id}:list:{acc.id}"
                )
            except ConnectorError as exc:
                log.warning("arbitrage listing failed", deal_id=deal.id, account_id=acc.id, error=str(exc))
                failed.append(acc.marketplace)
                continue
            if result.status not in ("applied", "accepted"):
                failed.append(acc.marketplace)
                continue

            def record(
                acc_id: int = acc.id, ext: str | None = result.external_id, p: Decimal = price
            ) -> None:
                with session_scope(self.engine) as s:
                    resale.record_listing(s, account_id=acc_id, sku=deal.sku, external_id=ext, price=p)  # type: ignore[arg-type]

            await asyncio.to_thread(record)
            listed.append(acc.marketplace)
            prices.append(price)
            heartbeat(acc.marketplace)
        if listed:
            await asyncio.to_thread(deal_steps.transition, self.engine, DealTransition(
                deal_id=deal.id, state=LISTED, reason=f"listed on {', '.join(listed)}", fields={"list_price": max(prices)},
            ))  # fmt: skip
        return ReceiveResult(sku=deal.sku, landed_cost=deal.landed_cost, list_price=max(prices) if prices else Decimal(0),
                             listed=listed, failed=failed)  # fmt: skip

    @activity.defn(name="arbitrage.find_sale")
    async def find_sale(self, inp: FindSaleInput) -> FindSaleResult:
        entry, deal = await asyncio.to_thread(resale.find_sale, self.engine, inp.deal_id)
        if entry is None:
            return FindSaleResult(sold=False)
        marketplace = entry.source_marketplace
        price = deal.list_price or deal.predicted_sale_price or Decimal(0)
        if entry.external_ref and marketplace:
            order = await self._order(marketplace, entry.external_ref)
            price = resale.sale_from_order(order, deal.sku or "", price)
        return FindSaleResult(
            sold=True,
            sale=SaleSignal(sale_price=price, marketplace=marketplace, order_ref=entry.external_ref),
        )

    async def _order(self, marketplace: str, order_id: str):  # type: ignore[no-untyped-def]
        registry = self.deps.services["marketplaces"]
        for acc in registry.accounts(marketplace=marketplace):
            getter = getattr(registry.get(acc.account_id), "get_order", None)
            if getter is None:
                continue
            try:
                found = await getter(order_id)
            except ConnectorError:
                continue
            if found is not None:
                return found
        return None

    @activity.defn(name="arbitrage.record_sale")
    def record_sale(self, inp: RecordSaleInput) -> RecordSaleResult:
        with session_scope(self.engine) as s:
            deal = repo.get_deal(s, inp.deal_id, lock=True)
            assert deal is not None
            fees, profit = resale.realised(
                deal, inp.sale, settings=self.settings, day=spend_day(utcnow(), self.settings.time_zone)
            )
            repo.transition(s, deal_id=deal.id, state=SOLD, reason=f"sold for {inp.sale.sale_price} on {inp.sale.marketplace}",
                            actor=inp.sale.recorded_by, fields={"sold_price": inp.sale.sale_price, "sold_fees": fees,
                            "realised_profit": profit})  # fmt: skip
            repo.set_spend(s, deal_id=deal.id, status="sold")
            return RecordSaleResult(realised_profit=profit, predicted_profit=deal.predicted_profit)
