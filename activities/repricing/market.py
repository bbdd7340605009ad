"""Repricing activities that talk to marketplaces: fee estimates, pushing approved prices in bulk (per-item
outcomes), and reading competitors' prices from marketplace pricing APIs; plus listing the pages to scrape."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from activities.common.errors import to_application_error
from activities.common.heartbeats import beat_every, heartbeat, kept_alive, throttled
from activities.common.timing import Phases
from activities.repricing import competitors, publish
from activities.repricing.db import write_with_retry, writing
from activities.repricing.inputs import listing_query
from connectors.errors import ConnectorError
from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.types import PriceUpdate
from merchflow.db.engine import read_session
from merchflow.db.models import MarketplaceListing, Product
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.repricing.contract import (
    FeeRate,
    FeeRates,
    FeeRatesInput,
    MarketPricesInput,
    MarketPricesResult,
    PushPricesInput,
    PushPricesResult,
    ScrapeTargetsInput,
    ScrapeTargetsResult,
)

log = get_logger(__name__)
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
MAX_FEE_CATEGORIES = 25  # getMyFeesEstimate allows ~1 request/s: one estimate per category keeps a run short


def prices_digest(targets: Sequence[publish.Target]) -> str:
    """Part of the idempotency key: a retry sending other values must not replay the first answer."""
    h = hashlib.sha256()
    for t in targets:
        h.update(f"{t.sku}\x00{t.price}\x01".encode())
    return h.hexdigest()[:12]


class RepricingMarketActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.cfg = deps.settings.repricing
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings
        )

    # ------------------------------------------------------------------ fees
    @activity.defn(name="reprice-fee-rates")
    async def fee_rates(self, inp: FeeRatesInput) -> FeeRates:
        """The marketplace's fee per category: published defaults from settings; on Amazon, when enabled, the
        effective rate of one Product Fees estimate per category (at a real listing's price)."""
        adapter = self.marketplaces.get(inp.account_id)
        base = self.cfg.fees.for_marketplace(adapter.marketplace)
        out = {"": FeeRate(rate=base.rate, fixed=base.fixed)}
        estimate = getattr(adapter, "fees_estimate", None)
        if estimate is None or not (adapter.marketplace == "amazon" and self.cfg.amazon_fee_estimates):
            return FeeRates(by_category=out)
        samples = await asyncio.to_thread(self._category_samples, inp)
        for category, sku, price in samples[:MAX_FEE_CATEGORIES]:
            try:
                fee = await estimate(sku=sku, price=price)
            except ConnectorError as exc:
                log.info("fee estimate unavailable; using the published rate", sku=sku, code=exc.code)
                continue
            if fee.total >= 0 and price > 0:
                out[category] = FeeRate(rate=float(fee.total / price), source="amazon:getMyFeesEstimate")
            heartbeat(category)
        return FeeRates(by_category=out)

    def _category_samples(self, inp: FeeRatesInput) -> list[tuple[str, str, Decimal]]:
        sub = listing_query(inp.account_id, inp.filters, "", None).subquery()
        q = (
            sa.select(sub.c.category, sa.func.min(sub.c.sku).label("sku"))
            .where(sub.c.category.is_not(None))
            .group_by(sub.c.category)
        )
        with read_session(self.engine) as s:
            picks = s.execute(q).all()
            out = []
            for r in picks:
                row = s.execute(
                    sa.select(_L.c.price, _P.c.price.label("list_price"))
                    .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
                    .where(_L.c.account_id == inp.account_id, _L.c.sku == r.sku)
                ).first()
                price = row and (row.price or row.list_price)
                if price:
                    out.append((str(r.category), r.sku, Decimal(str(price))))
        return out

    # ------------------------------------------------------------------ pushes
    @activity.defn(name="reprice-push-prices")
    async def push_prices(self, inp: PushPricesInput) -> PushPricesResult:
        """Send approved target prices of a SKU range to the marketplace in bulk and record each item's outcome:
        applied ones go live, refused ones are dropped with their reason, failed ones keep their target (retried).

        The targets are read here, at send time, on every attempt: an item whose answer was lost (reported failed,
        or the activity failed and Temporal retries it) is sent again with the price pending by then, never the one
        of the lost attempt (the transport does not resend writes of unknown outcome: connectors/http.py)."""
        clock = Phases()
        async with kept_alive(every=beat_every()):
            with clock("push_read"):
                targets = await asyncio.to_thread(self._targets, inp)
            result = PushPricesResult(account_id=inp.account_id, sent=len(targets))
            if not targets:
                return result
            result.last_sku, result.more = targets[-1].sku, len(targets) >= inp.limit
            adapter = self.marketplaces.get(inp.account_id)
            updates = [
                PriceUpdate(sku=t.sku, price=t.price, currency=t.currency, external_id=t.external_id,
                            external_variant_id=t.external_variant_id)
                for t in targets
            ]  # fmt: skip
            try:
                with clock("send"):
                    answer = await adapter.set_prices(
                        updates,
                        idempotency_key=f"{inp.idempotency_key}:{prices_digest(targets)}",
                        on_wait=throttled(),
                    )
            except ConnectorError as exc:
                raise to_application_error(exc) from exc
            by_sku = {t.sku: t for t in targets}
            applied, rejected = [], []
            for o in answer.outcomes:
                t = by_sku.get(o.sku)
                if t is None:
                    continue
                if o.status == "applied":
                    applied.append(t)
                elif o.status == "rejected":
                    rejected.append((t, f"{o.code or 'rejected'}: {o.message or ''}".strip()))
            with clock("record"):
                await asyncio.to_thread(self._record, inp.account_id, applied, rejected)
        result.applied, result.rejected = len(applied), len(rejected)
        result.retryable = len(targets) - len(applied) - len(rejected)
        result.phase_seconds = clock.rounded()
        return result

    def _targets(self, inp: PushPricesInput) -> list[publish.Target]:
        with read_session(self.engine) as s:
            return publish.pending_targets(
                s,
                account_id=inp.account_id,
                after_sku=inp.after_sku,
                through_sku=inp.through_sku,
                limit=inp.limit,
            )

    def _record(
        self, account_id: int, applied: list[publish.Target], rejected: list[tuple[publish.Target, str]]
    ) -> None:
        """The marketplace has acted: this must be recorded (failing here would make the retry push it all again)."""

        def work(s: Session) -> None:
            publish.record_applied(s, account_id=account_id, applied=applied)
            publish.record_rejected(s, account_id=account_id, rejected=rejected)

        # runs in a thread: the caller's kept_alive() heartbeats on the loop meanwhile
        write_with_retry(self.engine, work)

    # ------------------------------------------------------------------ competitor prices
    @activity.defn(name="reprice-market-prices")
    async def market_prices(self, inp: MarketPricesInput) -> MarketPricesResult:
        """Other sellers' prices for a page of the account's listings from the marketplace's pricing API (Amazon
        competitive pricing, eBay Browse); SKUs with fresh prices from this marketplace are not asked again."""
        async with kept_alive(every=beat_every()):
            adapter = self.marketplaces.get(inp.account_id)
            since = utcnow() - timedelta(hours=self.cfg.competitor_max_age_hours)

            def read() -> tuple[list, list[str], set[str]]:  # type: ignore[type-arg]
                with read_session(self.engine) as s:
                    idents, skus = competitors.identifier_page(
                        s,
                        account_id=inp.account_id,
                        filters=inp.filters,
                        after_sku=inp.after_sku,
                        limit=inp.limit,
                        by_own_sku=adapter.marketplace == "amazon",
                    )
                    return (
                        idents,
                        skus,
                        competitors.fresh_skus(s, skus, source_prefix=adapter.marketplace, since=since),
                    )

            idents, skus, fresh = await asyncio.to_thread(read)
            if not skus:
                return MarketPricesResult(last_sku=None, done=True)
            ask = [i for i in idents if i.sku not in fresh]
            try:
                prices = await adapter.competitive_prices(ask) if ask else []
            except ConnectorError as exc:
                raise to_application_error(exc) from exc

            def store() -> int:
                with writing(self.engine) as s:
                    return competitors.store_market_prices(s, prices, now=utcnow())

            stored = await asyncio.to_thread(store)
        return MarketPricesResult(
            last_sku=skus[-1],
            done=len(skus) < inp.limit,
            asked=len({i.sku for i in ask}),
            stored=stored,
            skipped_fresh=len(fresh),
        )

    @activity.defn(name="reprice-scrape-targets")
    def scrape_targets(self, inp: ScrapeTargetsInput) -> ScrapeTargetsResult:
        with read_session(self.engine) as s:
            targets, last, done = competitors.scrape_targets(
                s, filters=inp.filters, after_sku=inp.after_sku, limit=inp.limit
            )
        return ScrapeTargetsResult(targets=targets, last_sku=last, done=done)
