"""Writing one batch's outcome: proposal rows; on a real run price_change decisions in bulk (the autonomy policy
decides each one's fate) and, for what the policy auto-approved, the action itself - set-based.

Idempotent as a whole: decision ids derive from (run, account, SKU), proposals are unique per (run, account, SKU),
and an auto-approved decision acts under the same idempotency key as the bulk executor ("<id>:v<version>") after
locking its listing, so a retried batch, or the executor racing this run, never acts twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
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
from merchflow.db.models import AuditLog, Decision
from merchflow.db.pricing import RepriceProposal
from merchflow.decisions.bulk import create_pending
from merchflow.decisions.payloads import BulkItem
from merchflow.decisions.repository import ENTITY
from merchflow.repricing.auto import execute_auto
from merchflow.repricing.ids import decision_id, money, num, parts

_R = RepriceProposal.__table__  # type: ignore[attr-defined]
_D = Decision.__table__  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]
PROPOSAL_STATUS = {PENDING: "pending", RECOMMENDED: "recommended", AUTO_APPROVED: "auto_approved"}


def existing_proposals(session: Session, run_id: str, account_id: int, skus: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in parts(skus):
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
        "current_price": money(r.current_price),
        "suggested_price": money(r.suggested_price),
        "floor_price": money(r.floor_price, 4),
        "ceiling_price": money(r.ceiling_price, 4),
        "change_pct": float(r.change_pct),
        "confidence": float(r.confidence),
        "unit_margin_now": money(r.unit_margin_now, 4),
        "unit_margin_new": money(r.unit_margin_new, 4),
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
        Factor(name="floor_price", value=num(r.floor_price), detail="cost + minimum margin + fees"),
        Factor(name="inventory_age_days", value=int(r.age_days)),
        Factor(name="stock", value=int(r.stock)),
    ]
    evidence = []
    if num(r.competitor_min) is not None:
        factors.append(Factor(name="competitor_min", value=num(r.competitor_min)))
        evidence.append(
            Evidence(
                kind="competitor_price", label="lowest competitor price", value=f"{r.competitor_min:.2f}"
            )
        )
    if num(r.elasticity) is not None:
        factors.append(Factor(name="elasticity", value=num(r.elasticity), weight=num(r.model_confidence)))
    return Proposal(
        decision_type=PRICE_CHANGE,
        subject=r.sku,
        marketplace=marketplace,
        current={
            "price": str(money(r.current_price)),
            "cost": str(money(r.cost, 4)),
            "account_id": account_id,
        },
        proposed={"price": str(money(r.suggested_price))},
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
    old: list[Any] = []
    for part in parts(skus):
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
    for part in parts(ids):
        still += [
            r.id for r in session.execute(sa.select(_D.c.id).where(_D.c.id.in_(part), _D.c.status == PENDING))
        ]
    for part in parts(still):
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


def prepare_items(
    changed: pd.DataFrame, *, run_id: str, account_id: int, marketplace: str, now: datetime, ttl: timedelta
) -> dict[str, BulkItem]:
    """The decisions' proposals, built before the write transaction opens (it stays short)."""
    return {
        r.sku: BulkItem(
            decision_id=decision_id(run_id, account_id, r.sku),
            proposal=_proposal(
                r, run_id=run_id, account_id=account_id, marketplace=marketplace, expires=now + ttl
            ),
        )
        for r in changed.itertuples(index=False)
    }


def write_decisions(
    session: Session,
    *,
    run_id: str,
    account_id: int,
    changed: pd.DataFrame,
    items: dict[str, BulkItem],
    policy: Policy,
    now: datetime,
) -> dict[str, str]:
    """Proposals + bulk decisions for the changed SKUs; auto-approved ones act at once. SKU -> proposal status."""
    skus = changed["sku"].tolist()
    have = existing_proposals(session, run_id, account_id, skus)
    fresh = changed[~changed["sku"].isin(have)]
    if not fresh.empty:
        supersede_pending(session, run_id=run_id, account_id=account_id, skus=fresh["sku"].tolist(), now=now)
        ids = {sku: items[sku].decision_id for sku in fresh["sku"]}
        create_pending(
            session,
            [items[k] for k in ids],
            policies={PRICE_CHANGE: policy},
            now=now,
            actor=f"reprice:{run_id}",
        )
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
    for part in parts(ids):
        out.update(
            {
                r.id: r.status
                for r in session.execute(sa.select(_D.c.id, _D.c.status).where(_D.c.id.in_(part)))
            }
        )
    return out
