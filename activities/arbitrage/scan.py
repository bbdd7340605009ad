"""One scan batch: page a source, drop duplicates, identify, price in bulk, decide, look closer at the few worth it,
and record every offer with its verdict; deals are created for the opportunities only (their workflows are started
by the scan workflow). Plain async code with its connectors passed in, so the benchmark's floor runs the very same
steps without Temporal.

Order of the work, cheapest first: the source-id and same-seller dedupe and the identifiers need no call; the
market screen prices every identified product of the batch 20 per call; only candidates (buy / negotiate) get their
first photo hashed (a cross-post shows up as the same photo), the per-product market calls (restrictions, fee
estimate, eBay, history) and a second verdict.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import imagehash
import sqlalchemy as sa
from PIL import Image

from activities.arbitrage import repository as repo
from connectors.arbitrage_sources.port import OfferPage, SearchQuery
from domain.arbitrage.config import ArbitrageConfig
from domain.arbitrage.dedupe import DedupeIndex, Fingerprint, fingerprint
from domain.arbitrage.fee_data import FEE_BOOK
from domain.arbitrage.market import MarketQuote, screen_view
from domain.arbitrage.offers import Identified, RawOffer, identify, normalise_condition
from domain.arbitrage.rules import Verdict, decide, estimates
from merchflow.db.engine import read_session, session_scope
from merchflow.db.types import utcnow
from workflows.arbitrage.contract import ScanBatchResult, deal_id_for

PHOTO_CONCURRENCY = 8


@dataclass
class Evaluated:
    offer: RawOffer
    fp: Fingerprint
    verdict: str
    reason: str
    identified: Identified | None = None
    quote: MarketQuote | None = None
    decision: Verdict | None = None


@dataclass
class BatchStats:
    offers: int = 0
    duplicates: int = 0
    skipped: int = 0
    deals: list[str] = field(default_factory=list)


def offer_key(o: RawOffer) -> str:
    return f"{o.source}:{o.source_id}"


class Scanner:
    def __init__(self, *, engine: sa.Engine, source: Any, market: Any, config: ArbitrageConfig, page_size: int = 200,
                 quote_ttl: timedelta | None = None, on_page: Any = None) -> None:  # fmt: skip
        self.engine, self.source, self.market, self.config = engine, source, market, config
        self.page_size = page_size
        self.quote_ttl = quote_ttl or timedelta(hours=config.quote_ttl_hours)
        self.on_page = on_page or (lambda _cursor: None)  # heartbeat hook

    async def fetch(
        self, query: SearchQuery, cursor: str | None, limit: int
    ) -> tuple[list[RawOffer], str | None]:
        offers: list[RawOffer] = []
        while len(offers) < limit:
            page: OfferPage = await self.source.search(
                query, cursor, min(self.page_size, limit - len(offers))
            )
            offers += page.offers
            cursor = page.next_cursor
            self.on_page(cursor)
            if cursor is None:
                break
        return offers, cursor

    async def run(self, *, scan_id: str, search_id: int, query: SearchQuery, cursor: str | None, limit: int,
                  day: date) -> ScanBatchResult:  # fmt: skip
        offers, next_cursor = await self.fetch(query, cursor, limit)
        stats = await self.evaluate(offers, scan_id=scan_id, search_id=search_id, day=day)
        await asyncio.to_thread(self._count, scan_id, stats, next_cursor)
        return ScanBatchResult(next_cursor=next_cursor, done=next_cursor is None, offers=stats.offers,
                               duplicates=stats.duplicates, skipped=stats.skipped, deals=stats.deals)  # fmt: skip

    def _count(self, scan_id: str, stats: BatchStats, cursor: str | None) -> None:
        with session_scope(self.engine) as s:
            repo.add_to_scan(s, scan_id=scan_id, offers=stats.offers, duplicates=stats.duplicates, skipped=stats.skipped,
                             opportunities=len(stats.deals), cursor=cursor)  # fmt: skip

    # ---- the steps --------------------------------------------------------------------------------------------
    async def evaluate(
        self, offers: list[RawOffer], *, scan_id: str, search_id: int, day: date
    ) -> BatchStats:
        rows = [
            Evaluated(o, fingerprint(offer_key(o), o.title, o.price, None, o.seller_id), "", "")
            for o in offers
        ]
        index = await asyncio.to_thread(self._dedupe_index, [r.fp for r in rows])
        live = self._dedupe(rows, index)
        for r in live:
            r.identified = identify(r.offer)
        keys = sorted({r.identified.keys[0] for r in live if r.identified and r.identified.keys})
        quotes, deepened = await self._quotes(keys)
        self._decide(live, quotes, day)
        candidates = [r for r in live if r.verdict in ("buy", "negotiate")]
        if candidates:
            await self._photo_dedupe(candidates, index)
            await self._deepen([r for r in candidates if r.verdict != "duplicate"], day, deepened)
        stats = BatchStats(offers=len(rows))
        stats.duplicates = sum(1 for r in rows if r.verdict == "duplicate")
        stats.skipped = sum(1 for r in rows if r.verdict == "skip")
        deals = [r for r in rows if r.verdict in ("buy", "negotiate") and r.offer.can_checkout]
        stats.deals = [deal_id_for(r.fp.offer_key) for r in deals]
        await asyncio.to_thread(self._record, rows, deals, scan_id, search_id)
        return stats

    def _dedupe_index(self, fps: list[Fingerprint]) -> DedupeIndex:
        index = DedupeIndex()
        with read_session(self.engine) as s:
            index.seen_keys |= repo.known_offer_keys(s, [f.offer_key for f in fps])
            for known in repo.fingerprints_like(s, fps):
                index.add(known)
        return index

    @staticmethod
    def _dedupe(rows: list[Evaluated], index: DedupeIndex) -> list[Evaluated]:
        live = []
        for r in rows:
            why = index.check(r.fp)
            if why:
                r.verdict, r.reason = "duplicate", why
            else:
                index.add(r.fp)
                live.append(r)
        return live

    async def _quotes(self, keys: list[str]) -> tuple[dict[str, MarketQuote], dict[str, MarketQuote]]:
        """The screen quote of each product (fetched, or fresh from the cache), and the fresh deep quotes earlier
        batches stored. A deep quote is screened as its screen view, so an offer's verdict does not depend on
        which batch it fell into; its deep facts are reused when the offer becomes a candidate."""

        def cached() -> dict[str, tuple[MarketQuote, str]]:
            with read_session(self.engine) as s:
                rows = repo.cached_quotes(s, keys, fresh_after=utcnow() - self.quote_ttl)
            return {k: (MarketQuote.model_validate(v.quote), v.depth) for k, v in rows.items()}

        rows = await asyncio.to_thread(cached)
        have = {k: screen_view(q) for k, (q, _) in rows.items()}
        deepened = {k: q for k, (q, depth) in rows.items() if depth == "deep"}
        missing = [k for k in keys if k not in have]
        if missing and self.market is not None:
            fresh = await self.market.screen(missing)
            have.update(fresh)
            await asyncio.to_thread(self._store_quotes, fresh, "screen")
        return have, deepened

    def _store_quotes(self, quotes: dict[str, MarketQuote], depth: str) -> None:
        with session_scope(self.engine) as s:
            repo.store_quotes(s, {k: q.model_dump(mode="json") for k, q in quotes.items()}, depth=depth)

    def _decide(self, rows: list[Evaluated], quotes: dict[str, MarketQuote], day: date) -> None:
        sale_cache: dict[tuple[str, str], Any] = {}
        for r in rows:
            assert r.identified is not None
            key = r.identified.keys[0] if r.identified.keys else None
            r.quote = quotes.get(key) if key else None
            sale = None
            if r.quote is not None:
                cond = normalise_condition(r.offer.condition)
                ck = (r.quote.product_key, cond)
                if ck not in sale_cache:
                    sale_cache[ck] = estimates(
                        r.quote, condition=cond, config=self.config, book=FEE_BOOK, day=day
                    )
                sale = sale_cache[ck]
            v = decide(r.offer, r.identified, r.quote, config=self.config, book=FEE_BOOK, day=day, sale=sale)
            r.decision, r.verdict, r.reason = v, v.action, "; ".join(v.reasons)[:500]

    async def _photo_dedupe(self, rows: list[Evaluated], index: DedupeIndex) -> None:
        """Candidates only: hash the first photo, then compare with stored offers sharing a photo band and with the
        batch's other candidates (a cross-post on another source, a repost with the same picture)."""
        sem = asyncio.Semaphore(PHOTO_CONCURRENCY)
        fetch = getattr(self.source, "photo", None)

        async def phash(r: Evaluated) -> None:
            if fetch is None or not r.offer.photos:
                return
            async with sem:
                data = await fetch(r.offer.photos[0].url)
            r.fp = r.fp.model_copy(update={"phash": await asyncio.to_thread(_phash, data)})

        await asyncio.gather(*(phash(r) for r in rows))
        hashed = [r for r in rows if r.fp.phash]
        photos = await asyncio.to_thread(self._dedupe_index, [r.fp for r in hashed])
        for r in hashed:
            photos.seen_keys.discard(r.fp.offer_key)
            why = photos.check(r.fp)
            if why:
                r.verdict, r.reason = "duplicate", why
            else:
                photos.add(r.fp)

    async def _deepen(self, rows: list[Evaluated], day: date, known: dict[str, MarketQuote]) -> None:
        if self.market is None:
            return
        deep: dict[str, MarketQuote] = {}
        fresh: dict[str, MarketQuote] = {}
        for r in rows:
            key = r.quote.product_key if r.quote is not None else None
            if r.quote is not None and key is not None and key not in deep:
                if key in known:
                    deep[key] = known[key]
                else:
                    deep[key] = fresh[key] = await self.market.deepen(r.quote)
        await asyncio.to_thread(self._store_quotes, fresh, "deep")
        for r in rows:
            if r.quote is None:
                continue
            r.quote = deep[r.quote.product_key]
            assert r.identified is not None
            v = decide(r.offer, r.identified, r.quote, config=self.config, book=FEE_BOOK, day=day)
            r.decision, r.verdict, r.reason = v, v.action, "; ".join(v.reasons)[:500]

    def _record(self, rows: list[Evaluated], deals: list[Evaluated], scan_id: str, search_id: int) -> None:
        offer_rows = [
            {"offer_key": r.fp.offer_key, "scan_id": scan_id, "title": r.offer.title[:500], "title_key": r.fp.title_key[:500],
             "seller": r.fp.seller, "price": r.offer.price, "phash": r.fp.phash, "verdict": r.verdict,
             "product_key": r.quote.product_key if r.quote else None, "reason": r.reason[:500]}
            for r in rows
        ]  # fmt: skip
        deal_rows = [deal_row(r, scan_id=scan_id, search_id=search_id) for r in deals]
        with session_scope(self.engine) as s:
            repo.insert_offers(s, offer_rows)
            repo.insert_deals(s, deal_rows)


def _phash(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as im:
        return str(imagehash.phash(im.convert("RGB")))


def deal_row(r: Evaluated, *, scan_id: str, search_id: int) -> dict[str, Any]:
    v, o, q = r.decision, r.offer, r.quote
    assert (
        v is not None and v.at_target is not None and v.max_price is not None and v.target_price is not None
    )
    now = utcnow()
    return {
        "id": deal_id_for(r.fp.offer_key), "offer_key": r.fp.offer_key, "source": o.source, "source_id": o.source_id,
        "search_id": search_id, "scan_id": scan_id, "title": o.title[:500], "product_key": q.product_key if q else None,
        "asin": q.asin if q else None, "brand": (q.brand if q else None) or o.brand,
        "category": (q.category if q else None) or o.category, "condition": normalise_condition(o.condition),
        "state": "discovered", "action": v.action, "channel": v.channel, "currency": o.currency,
        "asking_price": o.price, "shipping": o.shipping, "max_price": v.max_price, "target_price": v.target_price,
        "landed_cost": v.at_target.landed_cost, "predicted_sale_price": v.at_target.sale_price,
        "predicted_fees": v.at_target.total_fees + v.at_target.shipping_cost,
        "predicted_profit": v.at_target.profit, "predicted_roi": float(v.at_target.roi),
        "days_to_sell": v.days_to_sell, "risk": v.risk.score if v.risk else None, "confidence": v.confidence,
        "fee_version": v.at_target.fee_version, "evaluation": evaluation_json(v, q, r.identified),
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def evaluation_json(v: Verdict, q: MarketQuote | None, ident: Identified | None) -> dict[str, Any]:
    out = v.model_dump(mode="json")
    out["quote"] = q.model_dump(mode="json") if q else None
    out["identified"] = ident.model_dump(mode="json") if ident else None
    return out


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
