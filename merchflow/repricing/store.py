"""Writing one batch's outcome: proposal rows; on a real run price_change decisions in bulk (the autonomy policy
decides each one's fate) and, for what the policy auto-approved, the action itself - set-based.

Idempotent as a whole: decision ids derive from (run, account, SKU), proposals are unique per (run, account, SKU),
and an auto-approved decision acts under the same idempotency key as the bulk executor ("<id>:v<version>") after
locking its listing, so a retried batch, or the executor racing this run, never acts twice.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from domain.decisions import (
    AUTO_APPROVED,
    PENDING,
    PRICE_CHANGE,
    RECOMMENDED,
    Evidence,
    Factor,
    Policy,
    Proposal,
)
from merchflow.db.decisions import DecisionAction
from merchflow.db.models import AuditLog, Decision, MarketplaceListing, PricingHistory, Product
from merchflow.db.pricing import RepriceProposal
from merchflow.decisions.bulk import create_pending
from merchflow.decisions.payloads import BulkItem
from merchflow.decisions.repository import ENTITY
from merchflow.repricing.listing_prices import AUTO_APPROVER, publish_follow_up

_R = RepriceProposal.__table__  # type: ignore[attr-defined]
_D = Decision.__table__  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]
_X = DecisionAction.__table__  # type: ignore[attr-defined]
_H = PricingHistory.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
IN_CHUNK = 5000
PROPOSAL_STATUS = {PENDING: "pending", RECOMMENDED: "recommended", AUTO_APPROVED: "auto_approved"}


def decision_id(run_id: str, account_id: int, sku: str) -> str:
    return "rp-" + hashlib.sha256(f"{run_id}\x00{account_id}\x00{sku}".encode()).hexdigest()[:32]


def _money(x: Any, places: int = 2) -> Decimal | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return Decimal(str(round(float(x), places)))


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def _parts(items: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield list(items[i : i + IN_CHUNK])


def existing_proposals(session: Session, run_id: str, account_id: int, skus: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _parts(skus):
        q = sa.select(_R.c.sku, _R.c.status).where(
            _R.c.run_id == run_id, _R.c.account_id == account_id, _R.c.sku.in_(part)
        )
        out.update({r.sku: r.status for r in session.execute(q)})
    return out


def _proposal_row(run_id: str, account_id: int, r: Any, status: str, did: str | None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account_id": account_id,
        "sku": r.sku,
        "current_price": _money(r.current_price),
        "suggested_price": _money(r.suggested_price),
        "floor_price": _money(r.floor_price, 4),
        "ceiling_price": _money(r.ceiling_price, 4),
        "change_pct": float(r.change_pct),
        "confidence": float(r.confidence),
        "unit_margin_now": _money(r.unit_margin_now, 4),
        "unit_margin_new": _money(r.unit_margin_new, 4),
        "expected_units_factor": float(r.expected_units_factor),
        "expected_revenue_factor": float(r.expected_revenue_factor),
        "reasoning": str(r.reasoning),
        "decision_id": did,
        "status": status,
    }


def write_dry_run(session: Session, *, run_id: str, account_id: int, changed: pd.DataFrame) -> None:
    have = existing_proposals(session, run_id, account_id, changed["sku"].tolist())
    rows = [
        _proposal_row(run_id, account_id, r, "proposed", None)
        for r in changed.itertuples(index=False)
        if r.sku not in have
    ]
    if rows:
        session.execute(sa.insert(_R), rows)


def _proposal(r: Any, *, run_id: str, account_id: int, marketplace: str, expires: datetime) -> Proposal:
    factors = [
        Factor(name="change_pct", value=float(r.change_pct)),
        Factor(name="floor_price", value=_num(r.floor_price), detail="cost + minimum margin + fees"),
        Factor(name="inventory_age_days", value=int(r.age_days)),
        Factor(name="stock", value=int(r.stock)),
    ]
    evidence = []
    if _num(r.competitor_min) is not None:
        factors.append(Factor(name="competitor_min", value=_num(r.competitor_min)))
        evidence.append(
            Evidence(
                kind="competitor_price", label="lowest competitor price", value=f"{r.competitor_min:.2f}"
            )
        )
    if _num(r.elasticity) is not None:
        factors.append(Factor(name="elasticity", value=_num(r.elasticity), weight=_num(r.model_confidence)))
    return Proposal(
        decision_type=PRICE_CHANGE,
        subject=r.sku,
        marketplace=marketplace,
        current={
            "price": str(_money(r.current_price)),
            "cost": str(_money(r.cost, 4)),
            "account_id": account_id,
        },
        proposed={"price": str(_money(r.suggested_price))},
        confidence=float(r.confidence),
        reasoning=str(r.reasoning),
        factors=factors,
        evidence=evidence,
        expires_at=expires,
        requested_by=f"reprice:{run_id}",
    )


def supersede_pending(
    session: Session, *, run_id: str, account_id: int, skus: Sequence[str], now: datetime
) -> int:
    """Older runs' price changes for these listings still waiting for a human are expired: this run's proposal,
    made from fresher facts, replaces them."""
    old = []
    for part in _parts(skus):
        old += session.execute(
            sa.select(_R.c.id, _R.c.decision_id).where(
                _R.c.account_id == account_id,
                _R.c.sku.in_(part),
                _R.c.status == "pending",
                _R.c.run_id != run_id,
            )
        ).all()
    if not old:
        return 0
    ids = [r.decision_id for r in old if r.decision_id]
    still = []
    for part in _parts(ids):
        still += [
            r.id for r in session.execute(sa.select(_D.c.id).where(_D.c.id.in_(part), _D.c.status == PENDING))
        ]
    for part in _parts(still):
        session.execute(
            sa.update(_D)
            .where(_D.c.id.in_(part), _D.c.status == PENDING)
            .values(status="expired", updated_at=now)
        )
    if still:
        audit = {"superseded_by": run_id, "status": "expired", "bulk": True}
        session.execute(
            sa.insert(_A),
            [
                {"at": now, "actor": "system", "action": "expired", "entity_type": ENTITY, "entity_id": i,
                 "details": audit}
                for i in still
            ],
        )  # fmt: skip
    session.execute(
        sa.update(_R).where(_R.c.id == sa.bindparam("b_id")).values(status="superseded"),
        [{"b_id": r.id} for r in old],
    )
    return len(still)


def write_decisions(
    session: Session,
    *,
    run_id: str,
    account_id: int,
    marketplace: str,
    changed: pd.DataFrame,
    policy: Policy,
    now: datetime,
    ttl: timedelta,
) -> dict[str, str]:
    """Proposals + bulk decisions for the changed SKUs; auto-approved ones act at once. SKU -> proposal status."""
    skus = changed["sku"].tolist()
    have = existing_proposals(session, run_id, account_id, skus)
    fresh = changed[~changed["sku"].isin(have)]
    if not fresh.empty:
        supersede_pending(session, run_id=run_id, account_id=account_id, skus=fresh["sku"].tolist(), now=now)
        ids = {sku: decision_id(run_id, account_id, sku) for sku in fresh["sku"]}
        items = [
            BulkItem(
                decision_id=ids[r.sku],
                proposal=_proposal(
                    r, run_id=run_id, account_id=account_id, marketplace=marketplace, expires=now + ttl
                ),
            )
            for r in fresh.itertuples(index=False)
        ]
        create_pending(session, items, policies={PRICE_CHANGE: policy}, now=now, actor=f"reprice:{run_id}")
        status = _decision_statuses(session, list(ids.values()))
        rows = [
            _proposal_row(
                run_id, account_id, r, PROPOSAL_STATUS.get(status.get(ids[r.sku], ""), "pending"), ids[r.sku]
            )
            for r in fresh.itertuples(index=False)
        ]
        session.execute(sa.insert(_R), rows)
    # (re)act on every auto-approved decision of the batch: a retry finds the ones already done by their key
    auto = changed[changed["sku"].map(lambda s: have.get(s, "") in ("", "auto_approved"))]
    todo = {r.sku: r for r in auto.itertuples(index=False)}
    status = _decision_statuses(session, [decision_id(run_id, account_id, s) for s in todo])
    todo = {s: r for s, r in todo.items() if status.get(decision_id(run_id, account_id, s)) == AUTO_APPROVED}
    if todo:
        execute_auto(session, run_id=run_id, account_id=account_id, rows=todo, now=now)
    return existing_proposals(session, run_id, account_id, skus)


def _decision_statuses(session: Session, ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _parts(ids):
        out.update(
            {
                r.id: r.status
                for r in session.execute(sa.select(_D.c.id, _D.c.status).where(_D.c.id.in_(part)))
            }
        )
    return out


def execute_auto(
    session: Session, *, run_id: str, account_id: int, rows: dict[str, Any], now: datetime
) -> None:
    """The price_change action for many auto-approved decisions at once, in the executor's order: lock the
    listings, skip keys already acted on, re-check the premise (live price as proposed), act, record the key."""
    skus = list(rows)
    live: dict[str, Decimal | None] = {}
    for part in _parts(skus):
        q = (
            sa.select(_L.c.sku, _L.c.price, _P.c.price.label("product_price"))
            .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
            .where(_L.c.account_id == account_id, _L.c.sku.in_(part), _L.c.status != "ended")
            .with_for_update(of=_L)
        )
        live.update({r.sku: r.price if r.price is not None else r.product_price for r in session.execute(q)})
    keys = {s: f"{decision_id(run_id, account_id, s)}:v1" for s in skus}
    done: set[str] = set()
    for part in _parts(list(keys.values())):
        done |= {
            r[0]
            for r in session.execute(sa.select(_X.c.idempotency_key).where(_X.c.idempotency_key.in_(part)))
        }
    act, moved = [], []
    for sku, r in rows.items():
        if keys[sku] in done:
            continue
        now_price = live.get(sku)
        if now_price is not None and _money(now_price) == _money(r.current_price):
            act.append((sku, r, _money(now_price)))
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
        [{"b_sku": s, "b_price": _money(r.suggested_price)} for s, r, _ in items],
    )
    session.execute(
        sa.insert(_H),
        [
            {"sku": s, "account_id": account_id, "old_price": old, "new_price": _money(r.suggested_price),
             "reason": str(r.reasoning)[:2000], "confidence": float(r.confidence), "approved_by": AUTO_APPROVER,
             "decision_id": decision_id(run_id, account_id, s), "created_at": now}
            for s, r, old in items
        ],
    )  # fmt: skip
    follow = publish_follow_up(account_id)
    results = {
        s: {"sku": s, "account_id": account_id, "old_price": str(old), "new_price": str(_money(r.suggested_price)),
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
