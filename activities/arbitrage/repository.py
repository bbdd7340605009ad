"""Arbitrage persistence. Keyword-only functions taking the session explicitly, run inside the caller's transaction.

The budget: `exposure` and `reserve` run under the budget lock (`lock_budget`: SELECT ... FOR UPDATE of one row on
PostgreSQL; on SQLite every write transaction starts with BEGIN IMMEDIATE, which serialises writers), so the check
of the caps and the reservation that consumes them are one atomic step across every worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from activities.arbitrage.tables import (
    BudgetLock,
    Deal,
    DealMessage,
    QuoteCache,
    ScanRun,
    SeenOffer,
    SpendReservation,
    WebhookReceipt,
)
from domain.arbitrage.deals import SOLD, TERMINAL, advance
from domain.arbitrage.dedupe import Fingerprint, phash_bands
from domain.arbitrage.limits import Exposure
from merchflow.db.models import AuditLog
from merchflow.db.types import utcnow

OPEN_SPEND = ("held", "spent")


def _insert(session: Session, table: sa.Table) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def _chunks(items: Sequence[Any], n: int = 900) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


# ---------------------------------------------------------------- offers (dedupe memory)
def known_offer_keys(session: Session, keys: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for part in _chunks(list(keys)):
        out |= set(session.exec(select(SeenOffer.offer_key).where(col(SeenOffer.offer_key).in_(part))).all())
    return out


def fingerprints_like(session: Session, fps: Sequence[Fingerprint]) -> list[Fingerprint]:
    """Stored offers sharing a blocking key with any of `fps` (same normalised title, same seller, a photo band)."""
    titles = sorted({f.title_key for f in fps if f.title_key})
    sellers = sorted({f.seller for f in fps if f.seller})
    bands: dict[int, set[str]] = {}
    for f in fps:
        for b in phash_bands(f.phash):
            i, _, value = b.partition(":")
            bands.setdefault(int(i), set()).add(value)
    conds: list[Any] = []
    for part in _chunks(titles):
        conds.append(col(SeenOffer.title_key).in_(part))
    for part in _chunks(sellers):
        conds.append(col(SeenOffer.seller).in_(part))
    columns = (SeenOffer.phash_b0, SeenOffer.phash_b1, SeenOffer.phash_b2, SeenOffer.phash_b3)
    for i, values in bands.items():
        for part in _chunks(sorted(values)):
            conds.append(col(columns[i]).in_(part))
    if not conds:
        return []
    out, seen = [], set()
    for cond in conds:
        q = select(
            SeenOffer.offer_key, SeenOffer.title_key, SeenOffer.price, SeenOffer.phash, SeenOffer.seller
        ).where(cond, SeenOffer.verdict != "duplicate")
        for key, title_key, price, phash, seller in session.exec(q).all():
            if key not in seen:
                seen.add(key)
                out.append(
                    Fingerprint(offer_key=key, title_key=title_key, price=price, phash=phash, seller=seller)
                )
    return out


def insert_offers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk insert; an offer key already stored (a retried batch) is left as it was."""
    if not rows:
        return
    table = SeenOffer.__table__  # type: ignore[attr-defined]
    now = utcnow()
    for r in rows:
        bands = phash_bands(r.get("phash"))
        for i in range(4):
            r[f"phash_b{i}"] = bands[i].partition(":")[2] if bands else None
        r.setdefault("seen_at", now)
    for part in _chunks(rows, 500):
        session.execute(
            _insert(session, table).on_conflict_do_nothing(index_elements=["offer_key"]), list(part)
        )


# ---------------------------------------------------------------- market quotes cache
def cached_quotes(session: Session, keys: Sequence[str], *, fresh_after: datetime) -> dict[str, QuoteCache]:
    out: dict[str, QuoteCache] = {}
    for part in _chunks(list(keys)):
        q = select(QuoteCache).where(
            col(QuoteCache.product_key).in_(part), QuoteCache.fetched_at >= fresh_after
        )
        out.update({row.product_key: row for row in session.exec(q).all()})
    return out


def store_quotes(session: Session, quotes: dict[str, dict[str, Any]], *, depth: str) -> None:
    if not quotes:
        return
    table = QuoteCache.__table__  # type: ignore[attr-defined]
    now = utcnow()
    rows = [{"product_key": k, "depth": depth, "quote": v, "fetched_at": now} for k, v in quotes.items()]
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["product_key"],
        set_={
            "depth": stmt.excluded.depth,
            "quote": stmt.excluded.quote,
            "fetched_at": stmt.excluded.fetched_at,
        },
    )
    for part in _chunks(rows, 500):
        session.execute(stmt, list(part))


# ---------------------------------------------------------------- scan runs
def start_scan(session: Session, *, scan_id: str, search_id: int) -> None:
    table = ScanRun.__table__  # type: ignore[attr-defined]
    session.execute(
        _insert(session, table)
        .values(id=scan_id, search_id=search_id, status="running", started_at=utcnow())
        .on_conflict_do_nothing(index_elements=["id"])
    )


def add_to_scan(session: Session, *, scan_id: str, offers: int, duplicates: int, skipped: int, opportunities: int,
                cursor: str | None) -> None:  # fmt: skip
    t = ScanRun.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(t).where(t.c.id == scan_id).values(
            pages=t.c.pages + 1, offers=t.c.offers + offers, duplicates=t.c.duplicates + duplicates,
            skipped=t.c.skipped + skipped, opportunities=t.c.opportunities + opportunities, cursor=cursor,
        )
    )  # fmt: skip


# ---------------------------------------------------------------- deals
def insert_deals(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Deal.__table__  # type: ignore[attr-defined]
    for part in _chunks(rows, 200):
        session.execute(_insert(session, table).on_conflict_do_nothing(index_elements=["id"]), list(part))


def get_deal(session: Session, deal_id: str, *, lock: bool = False) -> Deal | None:
    q = select(Deal).where(Deal.id == deal_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return session.exec(q).first()


def deal_for_offer(session: Session, offer_key: str) -> Deal | None:
    return session.exec(select(Deal).where(Deal.offer_key == offer_key)).first()


def transition(session: Session, *, deal_id: str, state: str, reason: str | None, actor: str,
               fields: dict[str, Any]) -> bool:  # fmt: skip
    """Move a deal forward and record why (audit line). False when it already was in that state (a retry)."""
    deal = get_deal(session, deal_id, lock=True)
    if deal is None:
        raise LookupError(f"no deal {deal_id}")
    moved = advance(deal.state, state)
    for name, value in fields.items():
        if not hasattr(deal, name) or name in ("id", "state", "offer_key"):
            raise ValueError(f"deal has no settable field {name!r}")
        setattr(deal, name, value)
    if not moved and not fields:
        return False
    now = utcnow()
    deal.state, deal.updated_at = state, now
    if reason is not None:
        deal.reason = reason[:1000]
    if state in TERMINAL and deal.closed_at is None:
        deal.closed_at = now
    session.add(deal)
    if moved:
        session.add(AuditLog(actor=actor[:100], action=f"deal_{state}"[:60], entity_type="arbitrage_deal",
                             entity_id=deal_id, details={"reason": reason, **{k: str(v) for k, v in fields.items()}}))  # fmt: skip
    return moved


# ---------------------------------------------------------------- budget
def lock_budget(session: Session) -> None:
    row = session.get(BudgetLock, 1)
    if row is None:
        session.execute(
            _insert(session, BudgetLock.__table__).values(id=1, version=0).on_conflict_do_nothing()
        )  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(BudgetLock).where(BudgetLock.id == 1).with_for_update()).one()


def exposure(
    session: Session, *, day: date, week_start: date, product_key: str | None, exclude: str
) -> Exposure:
    """Committed money and stock, not counting deal `exclude` (its own earlier reservation, on a retry)."""
    t = SpendReservation.__table__  # type: ignore[attr-defined]
    base = sa.and_(t.c.status.in_(OPEN_SPEND), t.c.deal_id != exclude)

    def total(*conds: Any) -> Decimal:
        value = session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.c.amount), 0)).where(base, *conds)
        ).scalar()
        return Decimal(str(value))

    units = 0
    if product_key:
        units = int(session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.c.units), 0)).where(base, t.c.product_key == product_key)
        ).scalar() or 0)  # fmt: skip
    return Exposure(
        spent_today=total(t.c.day == day),
        spent_week=total(t.c.day >= week_start),
        units_of_product=units,
        inventory_at_risk=total(),
    )


def hold(session: Session, *, deal_id: str, amount: Decimal, product_key: str | None, day: date) -> None:
    existing = session.get(SpendReservation, deal_id)
    if existing is not None:
        existing.amount, existing.status, existing.day = amount, "held", day
        session.add(existing)
        return
    session.add(
        SpendReservation(deal_id=deal_id, amount=amount, product_key=product_key, status="held", day=day)
    )


def set_spend(session: Session, *, deal_id: str, status: str) -> None:
    row = session.get(SpendReservation, deal_id)
    if row is None:
        return
    if row.status in ("released", "refunded", SOLD):
        return  # closed already: a retry
    now = utcnow()
    row.status = status
    if status == "spent":
        row.spent_at = now
    else:
        row.closed_at = now
    session.add(row)


# ---------------------------------------------------------------- messages, webhooks
def record_message(session: Session, *, deal_id: str, direction: str, external_id: str, text: str,
                   amount: Decimal | None = None, intent: str | None = None) -> bool:  # fmt: skip
    table = DealMessage.__table__  # type: ignore[attr-defined]
    r = session.execute(
        _insert(session, table).values(
            deal_id=deal_id, direction=direction, external_id=external_id[:100], text=text[:2000], amount=amount,
            intent=intent, created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["deal_id", "direction", "external_id"])
        .returning(table.c.id)
    )  # fmt: skip
    return r.first() is not None  # see first_receipt: not rowcount


def messages(session: Session, deal_id: str) -> list[DealMessage]:
    return list(
        session.exec(
            select(DealMessage).where(DealMessage.deal_id == deal_id).order_by(col(DealMessage.id))
        ).all()
    )


def first_receipt(session: Session, *, provider: str, event_id: str, event_type: str) -> bool:
    """True the first time an event is seen (then act on it), False for a duplicate delivery."""
    table = WebhookReceipt.__table__  # type: ignore[attr-defined]
    r = session.execute(
        _insert(session, table).values(provider=provider, event_id=event_id[:100], event_type=event_type[:60],
                                       received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(table.c.id)
    )  # fmt: skip
    # the returned row, not rowcount: a driver may report -1 for an INSERT ... ON CONFLICT that inserted nothing
    return r.first() is not None
