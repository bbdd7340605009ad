"""Reads for the API and pages: saved searches, deals (paged), a deal with its messages and timeline, the offers a
scan looked at, and the loop's report (P&L predicted vs realised, hit rate)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from activities.arbitrage import repository as repo
from activities.arbitrage.tables import Deal, SavedSearch, ScanRun, SeenOffer
from domain.arbitrage.deals import LISTED, PURCHASED, RECEIVED, SOLD, PnL, hit_rate
from merchflow.db.models import AuditLog

BOUGHT = (PURCHASED, RECEIVED, LISTED, SOLD, "refunded", "unsold")


def money(v: Decimal | None) -> str | None:
    return None if v is None else str(v.quantize(Decimal("0.01")))


def search_json(s: SavedSearch) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "source": s.source, "query": s.query, "every_minutes": s.every_minutes,
            "max_offers": s.max_offers, "enabled": s.enabled, "created_by": s.created_by,
            "created_at": s.created_at, "last_run_at": s.last_run_at}  # fmt: skip


def deal_json(d: Deal) -> dict[str, Any]:
    return {
        "id": d.id, "state": d.state, "reason": d.reason, "action": d.action, "source": d.source,
        "source_id": d.source_id, "title": d.title, "product_key": d.product_key, "asin": d.asin, "brand": d.brand,
        "category": d.category, "condition": d.condition, "channel": d.channel, "currency": d.currency,
        "asking_price": money(d.asking_price), "shipping": money(d.shipping), "max_price": money(d.max_price),
        "target_price": money(d.target_price), "agreed_price": money(d.agreed_price),
        "purchase_amount": money(d.purchase_amount), "landed_cost": money(d.landed_cost),
        "predicted": {"sale_price": money(d.predicted_sale_price), "fees": money(d.predicted_fees),
                      "profit": money(d.predicted_profit), "roi": d.predicted_roi, "days_to_sell": d.days_to_sell,
                      "risk": d.risk, "confidence": d.confidence, "fee_version": d.fee_version},
        "realised": {"sale_price": money(d.sold_price), "fees": money(d.sold_fees), "profit": money(d.realised_profit)},
        "order_id": d.order_id, "payment_id": d.payment_id, "decision_id": d.decision_id, "sku": d.sku,
        "list_price": money(d.list_price), "received_condition": d.received_condition,
        "created_at": d.created_at, "updated_at": d.updated_at, "closed_at": d.closed_at,
    }  # fmt: skip


def deals_page(session: Session, *, state: str | None, source: str | None, search_id: int | None, offset: int,
               limit: int) -> tuple[int, list[Deal]]:  # fmt: skip
    q = select(Deal)
    if state:
        q = q.where(Deal.state == state)
    if source:
        q = q.where(Deal.source == source)
    if search_id:
        q = q.where(Deal.search_id == search_id)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(
        q.order_by(col(Deal.created_at).desc(), col(Deal.id)).offset(offset).limit(limit)
    ).all()
    return int(total), list(rows)


def deal_detail(session: Session, deal_id: str) -> dict[str, Any] | None:
    d = repo.get_deal(session, deal_id)
    if d is None:
        return None
    out = deal_json(d)
    out["evaluation"] = d.evaluation
    out["messages"] = [{"direction": m.direction, "text": m.text, "amount": money(m.amount), "intent": m.intent,
                        "at": m.created_at} for m in repo.messages(session, deal_id)]  # fmt: skip
    timeline = session.exec(
        select(AuditLog).where(AuditLog.entity_type == "arbitrage_deal", AuditLog.entity_id == deal_id)
        .order_by(col(AuditLog.id))
    ).all()  # fmt: skip
    out["timeline"] = [
        {"at": a.at, "action": a.action, "actor": a.actor, "details": a.details} for a in timeline
    ]
    return out


def offers_page(session: Session, *, scan_id: str | None, verdict: str | None, offset: int,
                limit: int) -> tuple[int, list[SeenOffer]]:  # fmt: skip
    q = select(SeenOffer)
    if scan_id:
        q = q.where(SeenOffer.scan_id == scan_id)
    if verdict:
        q = q.where(SeenOffer.verdict == verdict)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    return int(total), list(session.exec(q.order_by(col(SeenOffer.id)).offset(offset).limit(limit)).all())


def report(session: Session) -> dict[str, Any]:
    evaluated = session.exec(select(func.count()).select_from(SeenOffer)).one()
    by_state = dict(session.execute(sa.select(Deal.state, sa.func.count()).group_by(Deal.state)).all())  # type: ignore[call-overload]
    opportunities = sum(by_state.values())
    bought = sum(v for k, v in by_state.items() if k in BOUGHT)
    sold = session.exec(select(Deal).where(Deal.state == SOLD)).all()
    pnl = [
        PnL(predicted_sale_price=d.predicted_sale_price or Decimal(0), predicted_fees=d.predicted_fees or Decimal(0),
            predicted_profit=d.predicted_profit or Decimal(0), landed_cost=d.landed_cost or Decimal(0),
            realised_sale_price=d.sold_price, realised_fees=d.sold_fees, realised_profit=d.realised_profit)
        for d in sold
    ]  # fmt: skip
    h = hit_rate(evaluated=int(evaluated), opportunities=opportunities, bought=bought, sold=pnl)
    spent = session.execute(
        sa.text("SELECT COALESCE(SUM(amount), 0) FROM arb_spend WHERE status IN ('spent', 'sold')")
    ).scalar()
    return {
        "evaluated": h.evaluated, "opportunities": h.opportunities, "bought": h.bought, "sold": h.sold,
        "profitable": h.profitable, "hit_rate": h.hit_rate, "buy_rate": h.buy_rate,
        "predicted_profit": money(h.predicted_profit), "realised_profit": money(h.realised_profit),
        "mean_prediction_error": money(h.mean_error), "spent": money(Decimal(str(spent or 0))), "deals_by_state": by_state,
        "deals": [{"id": d.id, "title": d.title, "predicted_profit": money(d.predicted_profit),
                   "realised_profit": money(d.realised_profit), "sold_price": money(d.sold_price)} for d in sold],
    }  # fmt: skip


def scan_json(run: ScanRun) -> dict[str, Any]:
    return {"id": run.id, "search_id": run.search_id, "status": run.status, "pages": run.pages, "offers": run.offers,
            "duplicates": run.duplicates, "skipped": run.skipped, "opportunities": run.opportunities,
            "started_at": run.started_at, "finished_at": run.finished_at}  # fmt: skip
