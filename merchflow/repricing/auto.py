"""Acting at once on what the autonomy policy auto-approved, set-based: the same steps and idempotency key
("<decision id>:v<version>") as the bulk executor's price_change action (merchflow.repricing.listing_prices),
for a whole batch in a few statements instead of a savepoint per decision."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.decisions import AUTO_APPROVED, PENDING, PRICE_CHANGE
from merchflow.db.decisions import DecisionAction
from merchflow.db.models import AuditLog, Decision, MarketplaceListing, PricingHistory, Product
from merchflow.db.pricing import RepriceProposal
from merchflow.decisions.repository import ENTITY
from merchflow.repricing.ids import decision_id, money, parts
from merchflow.repricing.listing_prices import AUTO_APPROVER, publish_follow_up

_R = RepriceProposal.__table__  # type: ignore[attr-defined]
_D = Decision.__table__  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]
_X = DecisionAction.__table__  # type: ignore[attr-defined]
_H = PricingHistory.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]


def execute_auto(
    session: Session, *, run_id: str, account_id: int, rows: dict[str, Any], now: datetime
) -> None:
    """The price_change action for many auto-approved decisions at once, in the executor's order: lock the
    listings, skip keys already acted on, re-check the premise (live price as proposed), act, record the key."""
    skus = list(rows)
    live: dict[str, Decimal | None] = {}
    for part in parts(skus):
        q = (
            sa.select(_L.c.sku, _L.c.price, _P.c.price.label("product_price"))
            .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
            .where(_L.c.account_id == account_id, _L.c.sku.in_(part), _L.c.status != "ended")
            .with_for_update(of=_L)
        )
        live.update({r.sku: r.price if r.price is not None else r.product_price for r in session.execute(q)})
    keys = {s: f"{decision_id(run_id, account_id, s)}:v1" for s in skus}
    done: set[str] = set()
    for part in parts(list(keys.values())):
        done |= {
            r[0]
            for r in session.execute(sa.select(_X.c.idempotency_key).where(_X.c.idempotency_key.in_(part)))
        }
    act, moved = [], []
    for sku, r in rows.items():
        if keys[sku] in done:
            continue
        now_price = live.get(sku)
        if now_price is not None and money(now_price) == money(r.current_price):
            act.append((sku, r, money(now_price)))
        else:
            moved.append((sku, r, now_price))
    if act:
        _act(session, run_id=run_id, account_id=account_id, items=act, keys=keys, now=now)
    if moved:
        _premise_changed(session, run_id=run_id, account_id=account_id, items=moved, now=now)


def _act(
    session: Session, *, run_id: str, account_id: int, items: list[Any], keys: dict[str, str], now: datetime
) -> None:
    session.execute(
        sa.update(_L)
        .where(_L.c.account_id == account_id, _L.c.sku == sa.bindparam("b_sku"))
        .values(target_price=sa.bindparam("b_price")),
        [{"b_sku": s, "b_price": money(r.suggested_price)} for s, r, _ in items],
    )
    session.execute(
        sa.insert(_H),
        [
            {"sku": s, "account_id": account_id, "old_price": old, "new_price": money(r.suggested_price),
             "reason": str(r.reasoning)[:2000], "confidence": float(r.confidence), "approved_by": AUTO_APPROVER,
             "decision_id": decision_id(run_id, account_id, s), "created_at": now}
            for s, r, old in items
        ],
    )  # fmt: skip
    follow = publish_follow_up(account_id)
    results = {
        s: {"sku": s, "account_id": account_id, "old_price": str(old), "new_price": str(money(r.suggested_price)),
            "follow_up": follow}
        for s, r, old in items
    }  # fmt: skip
    session.execute(
        sa.insert(_X),
        [
            {"idempotency_key": keys[s], "decision_id": decision_id(run_id, account_id, s),
             "decision_type": PRICE_CHANGE, "result": results[s], "executed_at": now}
            for s, _, _ in items
        ],
    )  # fmt: skip
    session.execute(
        sa.update(_D)
        .where(_D.c.id == sa.bindparam("b_id"), _D.c.status == AUTO_APPROVED)
        .values(status="executed", executed_at=now, updated_at=now),
        [{"b_id": decision_id(run_id, account_id, s)} for s, _, _ in items],
    )
    session.execute(
        sa.insert(_A),
        [
            {"at": now, "actor": "system", "action": "executed", "entity_type": ENTITY,
             "entity_id": decision_id(run_id, account_id, s),
             "details": {"version": 1, "bulk": True, "status": "executed", "result": results[s]}}
            for s, _, _ in items
        ],
    )  # fmt: skip


def _premise_changed(
    session: Session, *, run_id: str, account_id: int, items: list[Any], now: datetime
) -> None:
    """The listing's price moved since it was read: a human looks again with the new facts (like the executor)."""
    for sku, _r, now_price in items:
        did = decision_id(run_id, account_id, sku)
        row = session.get(Decision, did)
        if row is None or row.status != AUTO_APPROVED:
            continue
        current = {**row.proposal.get("current", {}), "price": None if now_price is None else str(now_price)}
        row.proposal = {**row.proposal, "current": current}
        row.status, row.version, row.approver, row.decided_at, row.updated_at = (
            PENDING,
            row.version + 1,
            None,
            None,
            now,
        )
        session.add(row)
        session.add(
            AuditLog(at=now, actor="system", action="premise_changed", entity_type=ENTITY, entity_id=did,
                     details={"version": row.version, "bulk": True, "current": current, "status": PENDING})
        )  # fmt: skip
    session.execute(
        sa.update(_R)
        .where(_R.c.run_id == run_id, _R.c.account_id == account_id, _R.c.sku == sa.bindparam("b_sku"))
        .values(status="pending"),
        [{"b_sku": s} for s, _, _ in items],
    )
