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

from activities.decisions.bulk import insert_decisions
from activities.decisions.repository import ENTITY
from activities.decisions.tables import Decision
from activities.repricing.auto import execute_auto
from activities.repricing.convert import money, money_list, num, parts
from activities.repricing.tables import RepriceProposal
from domain.currencies import ISO_4217
from domain.decisions.rules import (
    AUTO_APPROVED,
    PENDING,
    PRICE_CHANGE,
    RECOMMENDED,
    Evidence,
    ExpectedEffect,
    Factor,
    Policy,
    Proposal,
)
from merchflow.db.bulk import execute_many
from merchflow.db.models import AuditLog
from workflows.decisions.contract import BulkItem
from workflows.repricing.contract import decision_id

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


_MONEY_COLUMNS = (("current_price", 2), ("suggested_price", 2), ("floor_price", 4), ("ceiling_price", 4),
                  ("unit_margin_now", 4), ("unit_margin_new", 4))  # fmt: skip
_FLOAT_COLUMNS = ("change_pct", "confidence", "expected_units_factor", "expected_revenue_factor")


def _proposal_rows(
    run_id: str, account_id: int, frame: pd.DataFrame, statuses: Sequence[str], ids: Sequence[str | None]
) -> list[dict[str, Any]]:
    """The proposal rows of a frame of engine output, column by column (one pass of conversions per column)."""
    cols: dict[str, list[Any]] = {c: money_list(frame[c].tolist(), places) for c, places in _MONEY_COLUMNS}
    cols.update({c: [float(v) for v in frame[c].tolist()] for c in _FLOAT_COLUMNS})
    cols["reasoning"] = [str(v) for v in frame["reasoning"].tolist()]
    cols["sku"], cols["decision_id"], cols["status"] = frame["sku"].tolist(), list(ids), list(statuses)
    names = list(cols)
    return [
        {"run_id": run_id, "account_id": account_id, **dict(zip(names, values, strict=True))}
        for values in zip(*cols.values(), strict=True)
    ]


def write_dry_run(session: Session, *, run_id: str, account_id: int, changed: pd.DataFrame) -> None:
    have = existing_proposals(session, run_id, account_id, changed["sku"].tolist())
    fresh = changed[~changed["sku"].isin(have)]
    execute_many(
        session,
        sa.insert(_R),
        _proposal_rows(run_id, account_id, fresh, ["proposed"] * len(fresh), [None] * len(fresh)),
    )


def expected_effect(r: Any, *, basis: str) -> ExpectedEffect:
    """The margin / revenue change per day the engine expects at the listing's recent sales rate (price_batch's
    `margin_delta` / `revenue_delta`), attached to the decision so the approver sees what approving is worth."""
    units = num(r.expected_units_factor)
    return ExpectedEffect(
        period="day",
        basis=basis,
        margin_delta=money(r.margin_delta),
        revenue_delta=money(r.revenue_delta),
        units_change_pct=None if units is None else round((units - 1) * 100, 2),
    )


def _proposal(
    r: Any, *, run_id: str, account_id: int, marketplace: str, expires: datetime, basis: str
) -> Proposal:
    factors = [
        Factor(name="change_pct", value=num(r.change_pct), unit="percent"),
        Factor(
            name="floor_price", value=num(r.floor_price), detail="cost + minimum margin + fees", unit="money"
        ),
        Factor(name="inventory_age_days", value=int(r.age_days), unit="days"),
        Factor(name="stock", value=int(r.stock), unit="count"),
    ]
    evidence = []
    if num(r.competitor_min) is not None:
        factors.append(Factor(name="competitor_min", value=num(r.competitor_min), unit="money"))
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
        currency=_currency(r),
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
        expected_effect=expected_effect(r, basis=basis),
        expires_at=expires,
        requested_by=f"reprice:{run_id}",
    )


def _currency(r: Any) -> str | None:
    code = getattr(r, "currency", None)
    return code if isinstance(code, str) and code in ISO_4217 else None


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
    changed: pd.DataFrame,
    *,
    run_id: str,
    account_id: int,
    marketplace: str,
    now: datetime,
    ttl: timedelta,
    run_rate_days: int = 28,
) -> dict[str, BulkItem]:
    """The decisions' proposals, built before the write transaction opens (it stays short)."""
    basis = f"at the last {run_rate_days} days' sales rate"
    return {
        r.sku: BulkItem(
            decision_id=decision_id(run_id, account_id, r.sku),
            proposal=_proposal(
                r,
                run_id=run_id,
                account_id=account_id,
                marketplace=marketplace,
                expires=now + ttl,
                basis=basis,
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
    status: dict[str, str] = {}  # decision id -> status
    if not fresh.empty:
        fresh_skus = fresh["sku"].tolist()
        supersede_pending(session, run_id=run_id, account_id=account_id, skus=fresh_skus, now=now)
        ids = [items[sku].decision_id for sku in fresh_skus]
        created, existed = insert_decisions(
            session, [items[sku] for sku in fresh_skus], policies={PRICE_CHANGE: policy}, now=now,
            actor=f"reprice:{run_id}",
        )  # fmt: skip
        status = {**existed, **created}
        rows = _proposal_rows(
            run_id, account_id, fresh, [PROPOSAL_STATUS.get(status.get(i, ""), "pending") for i in ids], ids
        )
        execute_many(session, sa.insert(_R), rows)
    # (re)act on every auto-approved decision of the batch: a retry finds the ones already done by their key
    again = [s for s in skus if have.get(s) == "auto_approved"]
    if again:
        status.update(_decision_statuses(session, [decision_id(run_id, account_id, s) for s in again]))
    auto = changed[[status.get(decision_id(run_id, account_id, s)) == AUTO_APPROVED for s in skus]]
    if not auto.empty:
        execute_auto(session, run_id=run_id, account_id=account_id, rows=auto, now=now)
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
