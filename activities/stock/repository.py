"""Master stock persistence. Every function takes the session explicitly and runs inside the caller's transaction.

Locking: on PostgreSQL `SELECT ... FOR UPDATE` on the SKUs' stock rows, always in sorted SKU order (no deadlocks);
on SQLite every write transaction starts with BEGIN IMMEDIATE (see merchflow/db/engine.py), which serialises writers.
Either way two orders for the last unit are decided one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, select

from activities.stock.tables import MarketplaceOrder, StockLedgerEntry
from domain.stock.rules import ShortagePolicy, allocate, apply_movement, available_to_publish
from merchflow.db.models import AuditLog, MarketplaceAccount, MarketplaceListing, StockLevel
from merchflow.db.types import utcnow


@dataclass(frozen=True)
class LineIn:
    sku: str
    quantity: int


@dataclass
class OrderResult:
    order_id: str
    account_id: int
    status: str  # allocated | backordered | cancelled | unmanaged (no line's SKU is in the master)
    duplicate: bool = False
    allocated: list[str] = field(default_factory=list)  # SKUs whose stock moved
    short: list[dict[str, Any]] = field(default_factory=list)  # {sku, quantity, shortage, action}

    @property
    def needs_cancel(self) -> bool:
        return self.status == "cancelled"


def lock_levels(session: Session, skus: Iterable[str]) -> dict[str, StockLevel]:
    ordered = sorted(set(skus))
    q = select(StockLevel).where(StockLevel.sku.in_(ordered)).order_by(StockLevel.sku)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return {row.sku: row for row in session.exec(q).all()}


def _sale_key(account_id: int, order_id: str, sku: str) -> str:
    return f"sale:{account_id}:{order_id}:{sku}"


def record_order(
    session: Session,
    *,
    account_id: int,
    marketplace: str,
    order_id: str,
    lines: Sequence[LineIn],
    policy: ShortagePolicy = "cancel",
    source: str = "webhook",
    workflow_id: str | None = None,
) -> OrderResult:
    """Allocate an order's lines against master stock, once. A second call for the same (account, order) — a
    duplicate webhook, the poller finding it again, an activity retry — returns the first outcome unchanged."""
    existing = session.exec(
        select(MarketplaceOrder).where(
            MarketplaceOrder.account_id == account_id, MarketplaceOrder.order_id == order_id
        )
    ).first()
    if existing is not None and existing.status != "received":
        return OrderResult(
            order_id,
            account_id,
            existing.status,
            duplicate=True,
            allocated=list(existing.outcome.get("allocated", [])),
            short=list(existing.outcome.get("short", [])),
        )
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    levels = lock_levels(session, merged)
    # A SKU the master keeps no stock for is not ours to manage (like unknown listings in a reconcile): its lines
    # are recorded and left alone - cancelling a customer's order over it would be the wrong call to automate.
    unmanaged = sorted(sku for sku in merged if sku not in levels)
    decisions = {
        sku: allocate(
            sku=sku, on_hand=levels[sku].on_hand, reserved=levels[sku].reserved, quantity=q, policy=policy
        )
        for sku, q in merged.items()
        if sku in levels
    }
    short = [
        {"sku": a.sku, "quantity": a.quantity, "shortage": a.shortage, "action": a.action, "reason": a.reason}
        for a in decisions.values()
        if not a.ok
    ]
    # cancel policy: an order we cannot fill completely is cancelled whole, and nothing moves
    status = "allocated" if not short else ("cancelled" if policy == "cancel" else "backordered")
    if not decisions:
        status = "unmanaged"
    allocated: list[str] = []
    now = utcnow()
    if status != "cancelled":
        for sku, a in decisions.items():
            if not a.ok:
                continue
            level = levels[sku]
            level.on_hand, level.version, level.updated_at = a.on_hand_after, level.version + 1, now
            session.add(level)
            session.add(
                StockLedgerEntry(
                    sku=sku,
                    kind="sale",
                    quantity=-a.quantity,
                    reason=f"order {order_id}",
                    source_marketplace=marketplace,
                    external_ref=order_id,
                    idempotency_key=_sale_key(account_id, order_id, sku),
                    created_by=source,
                    created_at=now,
                )
            )
            allocated.append(sku)
    order = existing or MarketplaceOrder(account_id=account_id, marketplace=marketplace, order_id=order_id)
    order.status, order.source, order.workflow_id, order.processed_at = status, source, workflow_id, now
    order.lines = [{"sku": s, "quantity": q} for s, q in merged.items()]
    order.outcome = {"allocated": allocated, "short": short, "unmanaged": unmanaged}
    session.add(order)
    if short or unmanaged:
        session.add(
            AuditLog(
                actor=workflow_id or "stock",
                action=f"order_{status}",
                entity_type="order",
                entity_id=f"{marketplace}:{order_id}",
                details={"policy": policy, "short": short, "unmanaged": unmanaged},
                at=now,
            )
        )
    session.flush()
    return OrderResult(order_id, account_id, status, allocated=allocated, short=short)


def apply_adjustment(
    session: Session,
    *,
    sku: str,
    kind: str,
    quantity: int,
    reason: str | None,
    idempotency_key: str,
    source_marketplace: str | None = None,
    external_ref: str | None = None,
    actor: str = "api",
) -> tuple[StockLevel, bool]:
    """Receipts, returns, cancellations, adjustments, transfers. Returns (level, applied_now); a repeated key is
    a no-op that returns the current level."""
    dup = session.exec(
        select(StockLedgerEntry.id).where(StockLedgerEntry.idempotency_key == idempotency_key)
    ).first()
    levels = lock_levels(session, [sku])
    level = levels.get(sku)
    if dup is not None:
        if level is None:
            raise LookupError(sku)
        return level, False
    if level is None:
        level = StockLevel(sku=sku, on_hand=0, reserved=0, version=0)
    now = utcnow()
    level.on_hand = apply_movement(on_hand=level.on_hand, kind=kind, quantity=quantity)
    level.version += 1
    level.updated_at = now
    session.add(level)
    signed = (
        quantity
        if kind in ("adjustment", "transfer")
        else (quantity if kind in ("receipt", "return", "cancellation") else -quantity)
    )
    session.add(
        StockLedgerEntry(
            sku=sku,
            kind=kind,
            quantity=signed,
            reason=reason,
            source_marketplace=source_marketplace,
            external_ref=external_ref,
            idempotency_key=idempotency_key,
            created_by=actor,
            created_at=now,
        )
    )
    session.flush()
    return level, True


@dataclass(frozen=True)
class PublishTarget:
    account_id: int
    marketplace: str
    sku: str
    quantity: int  # available to publish on that channel now
    version: int  # stock version the quantity was computed from
    last_published: int | None
    external_id: str | None
    external_variant_id: str | None
    published_version: int = 0


_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_A = MarketplaceAccount.__table__  # type: ignore[attr-defined]
_S = StockLevel.__table__  # type: ignore[attr-defined]
IN_CHUNK = 5000  # SKUs per IN (...) list: well under SQLite's and PostgreSQL's bound-parameter limits


def publish_targets(
    session: Session,
    skus: Iterable[str],
    *,
    exclude_account_id: int | None = None,
    account_id: int | None = None,
) -> list[PublishTarget]:
    """What every listing of these SKUs should show right now (read in the same transaction as the stock).

    Plain column rows, not ORM objects: a reconcile reads this for 100,000s of SKUs."""
    skus = sorted(set(skus))
    out: list[PublishTarget] = []
    for i in range(0, len(skus), IN_CHUNK):
        q = (
            sa.select(
                _L.c.account_id,
                _A.c.marketplace,
                sa.func.coalesce(_L.c.safety_buffer, _A.c.safety_buffer).label("safety_buffer"),
                _L.c.sku,
                _L.c.quantity,
                _L.c.published_version,
                _L.c.external_id,
                _L.c.external_variant_id,
                _S.c.on_hand,
                _S.c.reserved,
                _S.c.version,
            )
            # inner join: a SKU the master keeps no stock for is not managed here (like orders for it), so a newly
            # linked listing is never zeroed before its stock is known; excluded listings and accounts that cannot be
            # called are left alone too (issue 11)
            .select_from(_L.join(_A, _A.c.id == _L.c.account_id).join(_S, _S.c.sku == _L.c.sku))
            .where(_L.c.sku.in_(skus[i : i + IN_CHUNK]), _A.c.enabled.is_(True), _L.c.status != "ended")
            .where(_L.c.stock_automation.is_(True), _A.c.status == "connected")
        )
        if exclude_account_id is not None:
            q = q.where(_L.c.account_id != exclude_account_id)
        if account_id is not None:
            q = q.where(_L.c.account_id == account_id)
        for r in session.execute(q):
            out.append(
                PublishTarget(
                    account_id=r.account_id,
                    marketplace=r.marketplace,
                    sku=r.sku,
                    quantity=available_to_publish(r.on_hand, r.reserved, r.safety_buffer),
                    version=r.version or 0,
                    last_published=r.quantity,
                    external_id=r.external_id,
                    external_variant_id=r.external_variant_id,
                    published_version=r.published_version,
                )
            )
    return out


def mark_published(
    session: Session, *, account_id: int, rows: Sequence[tuple[str, int, int]], error: str | None = None
) -> int:
    """Record (sku, quantity, version) as live on the account, never letting an older version overwrite a newer one.
    One executemany for the whole list."""
    if not rows:
        return 0
    stmt = (
        sa.update(_L)
        .where(_L.c.account_id == account_id, _L.c.sku == sa.bindparam("b_sku"))
        .where(_L.c.published_version <= sa.bindparam("b_version"))
        .values(
            quantity=sa.bindparam("b_quantity"),
            published_version=sa.bindparam("b_version"),
            last_synced_at=utcnow(),
            sync_error=error,
        )
    )
    params = [{"b_sku": sku, "b_quantity": q, "b_version": v} for sku, q, v in rows]
    res = session.connection().execute(stmt, params)
    return max(0, res.rowcount or 0)


def mark_seen(session: Session, *, account_id: int, skus: Sequence[str]) -> None:
    """A reconcile found these listings showing what the master says: only their sync time moves. One statement per
    few thousand SKUs (the close step reports listings this run never saw as missing on the marketplace)."""
    now = utcnow()
    for i in range(0, len(skus), IN_CHUNK):
        session.connection().execute(
            sa.update(_L)
            .where(_L.c.account_id == account_id, _L.c.sku.in_(list(skus[i : i + IN_CHUNK])))
            .values(last_synced_at=now, sync_error=None)
        )


def current_versions(session: Session, skus: Iterable[str]) -> dict[str, int]:
    skus = sorted(set(skus))
    out: dict[str, int] = {}
    for i in range(0, len(skus), IN_CHUNK):
        rows = session.execute(sa.select(_S.c.sku, _S.c.version).where(_S.c.sku.in_(skus[i : i + IN_CHUNK])))
        out.update({sku: version for sku, version in rows})
    return out


def _has_sku(session: Session, sku: str) -> sa.ColumnElement[bool]:
    """Orders with a line for this SKU. Lines are a JSON list; each database has its own way into one."""
    lines = MarketplaceOrder.__table__.c.lines  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(lines, JSONB).contains([{"sku": sku}])
    line = sa.func.json_each(lines).table_valued("value").alias("line")
    return sa.exists(sa.select(1).select_from(line).where(sa.func.json_extract(line.c.value, "$.sku") == sku))


def list_orders(
    session: Session,
    *,
    status: str | None = None,
    marketplace: str | None = None,
    account_id: int | None = None,
    sku: str | None = None,
    received_from: datetime | None = None,
    received_before: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[MarketplaceOrder]:
    """Orders newest first, filtered; `before_id` is the cursor (keyset on the primary key: any depth is one index
    range, and orders arriving meanwhile never shift a page)."""
    q = select(MarketplaceOrder)
    if status is not None:
        q = q.where(MarketplaceOrder.status == status)
    if marketplace is not None:
        q = q.where(MarketplaceOrder.marketplace == marketplace)
    if account_id is not None:
        q = q.where(MarketplaceOrder.account_id == account_id)
    if sku is not None:
        q = q.where(_has_sku(session, sku))
    if received_from is not None:
        q = q.where(MarketplaceOrder.received_at >= received_from)  # type: ignore[operator]
    if received_before is not None:
        q = q.where(MarketplaceOrder.received_at < received_before)  # type: ignore[operator]
    if before_id is not None:
        q = q.where(MarketplaceOrder.id < before_id)  # type: ignore[operator]
    return list(session.exec(q.order_by(MarketplaceOrder.id.desc()).limit(limit)).all())  # type: ignore[union-attr]
