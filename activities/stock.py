"""Stock activities: allocate an order, push available quantities, cancel, reconcile a batch, poll orders.

Pushes never send a quantity computed earlier: they read the master at send time, and after the marketplace has
answered they compare the SKUs' stock versions again and re-send the ones that moved meanwhile. Whatever the order
of concurrent pushes (an order push and a reconcile for the same SKU), the last value sent is computed from the
latest version, so no stale quantity is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio import activity

from activities.errors import to_application_error
from activities.stock_payloads import (
    AccountRef,
    AllocateResult,
    CancelInput,
    OrderLinePayload,
    OrderSyncInput,
    PollInput,
    PollPage,
    PublishInput,
    PushInput,
    PushItem,
    PushResult,
    ReconcileBatchInput,
    ReconcileBatchResult,
    ReconcileInput,
    ReconcileProgress,
    SaveCursorInput,
)
from connectors.errors import ConnectorError
from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.types import QuantityUpdate
from domain.stock import reconcile_diff
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing
from merchflow.db.stock import DriftReportRow, OrderCursor, ReconcileRun
from merchflow.db.types import utcnow
from merchflow.stock.repository import LineIn, current_versions, mark_published, publish_targets, record_order
from workers.deps import Deps

MAX_PUSH_ROUNDS = 4


class StockActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine: sa.Engine = deps.engine
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings
        )

    # ------------------------------------------------------------------ orders
    @activity.defn(name="stock-allocate-order")
    def allocate_order(self, inp: OrderSyncInput) -> AllocateResult:
        info = activity.info()
        with session_scope(self.engine) as s:
            r = record_order(
                s,
                account_id=inp.account_id,
                marketplace=inp.marketplace,
                order_id=inp.order_id,
                lines=[LineIn(line.sku, line.quantity) for line in inp.lines],
                policy=inp.policy,  # type: ignore[arg-type]
                source=inp.source,
                workflow_id=info.workflow_id,
            )
        return AllocateResult(status=r.status, duplicate=r.duplicate, allocated=r.allocated, short=r.short)

    @activity.defn(name="stock-cancel-order")
    async def cancel_order(self, inp: CancelInput) -> str:
        adapter = self.marketplaces.get(inp.account_id)
        try:
            res = await adapter.cancel_order(
                inp.order_id, reason=inp.reason, idempotency_key=inp.idempotency_key
            )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return res.status

    @activity.defn(name="stock-accounts")
    def accounts(self, inp: ReconcileInput) -> list[AccountRef]:
        with Session(self.engine) as s:
            q = select(MarketplaceAccount).where(MarketplaceAccount.enabled == True)  # noqa: E712
            if inp.account_ids:
                q = q.where(MarketplaceAccount.id.in_(inp.account_ids))  # type: ignore[union-attr]
            return [
                AccountRef(account_id=a.id or 0, marketplace=a.marketplace, name=a.name)
                for a in s.exec(q.order_by(MarketplaceAccount.id)).all()
            ]

    @activity.defn(name="stock-accounts-listing")
    def accounts_listing(self, inp: PublishInput) -> list[int]:
        """Accounts that list any of these SKUs (targets of a publish), except the excluded one."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(MarketplaceListing.account_id).where(MarketplaceListing.sku.in_(inp.skus)).distinct()  # type: ignore[attr-defined]
            ).all()
        return sorted(a for a in rows if a != inp.exclude_account_id)

    # ------------------------------------------------------------------ pushes
    def _targets(
        self, account_id: int, skus: Sequence[str]
    ) -> dict[str, tuple[int, int, int | None, str | None, str | None]]:
        with Session(self.engine) as s:
            return {
                t.sku: (t.quantity, t.version, t.last_published, t.external_id, t.external_variant_id)
                for t in publish_targets(s, skus, account_id=account_id)
            }

    def _record(self, account_id: int, rows: list[tuple[str, int, int]], error: str | None = None) -> None:
        if rows:
            with session_scope(self.engine) as s:
                mark_published(s, account_id=account_id, rows=rows, error=error)

    def _versions(self, skus: Sequence[str]) -> dict[str, int]:
        with Session(self.engine) as s:
            return current_versions(s, skus)

    @activity.defn(name="stock-push-quantities")
    async def push_quantities(self, inp: PushInput) -> PushResult:
        adapter = self.marketplaces.get(inp.account_id)
        pending = list(dict.fromkeys(inp.skus))
        final: dict[str, PushItem] = {}
        rounds = 0
        while pending and rounds < MAX_PUSH_ROUNDS:
            rounds += 1
            targets = await asyncio.to_thread(self._targets, inp.account_id, pending)
            for sku in pending:
                if sku not in targets:
                    final[sku] = PushItem(sku=sku, status="skipped", message="not listed on this account")
            updates = [
                QuantityUpdate(sku=sku, quantity=q, external_id=ext, external_variant_id=var)
                for sku, (q, _v, _last, ext, var) in targets.items()
            ]
            if not updates:
                break
            try:
                result = await adapter.set_quantities(
                    updates,
                    idempotency_key=f"{inp.idempotency_key}:r{rounds}",
                    on_wait=lambda msg: activity.heartbeat(msg),
                )
            except ConnectorError as exc:
                raise to_application_error(exc) from exc
            applied = []
            for o in result.outcomes:
                q, version = targets[o.sku][0], targets[o.sku][1]
                final[o.sku] = PushItem(sku=o.sku, status=o.status, quantity=q, message=o.message)
                if o.ok:
                    applied.append((o.sku, q, version))
            await asyncio.to_thread(self._record, inp.account_id, applied)
            # re-send what moved while we were sending (see the module docstring)
            now = await asyncio.to_thread(self._versions, [s for s, _, _ in applied])
            pending = [sku for sku, _, version in applied if now.get(sku, version) != version]
            # items the marketplace could not take this time are retried here too (bounded)
            pending += [o.sku for o in result.outcomes if o.status in ("failed", "conflict")]
            activity.heartbeat({"round": rounds, "pending": len(pending)})
        return PushResult(account_id=inp.account_id, items=list(final.values()), rounds=rounds)

    # ------------------------------------------------------------------ reconcile
    @activity.defn(name="stock-reconcile-start")
    def reconcile_start(self, inp: ReconcileBatchInput) -> None:
        with session_scope(self.engine) as s:
            if s.get(ReconcileRun, inp.run_id) is None:
                s.add(ReconcileRun(id=inp.run_id, account_id=inp.account_id, parent_id=None))

    @activity.defn(name="stock-reconcile-batch")
    async def reconcile_batch(self, inp: ReconcileBatchInput) -> ReconcileBatchResult:
        adapter = self.marketplaces.get(inp.account_id)
        found: dict[str, int | None] = {}
        cursor = inp.cursor
        try:
            while len(found) < inp.batch_size:
                page = await adapter.list_listings(cursor)
                for item in page.items:
                    found[item.sku] = item.quantity
                cursor = page.next_cursor
                activity.heartbeat({"batch": inp.batch_no, "read": len(found)})
                if cursor is None:
                    break
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        targets = await asyncio.to_thread(self._targets, inp.account_id, list(found))
        expected = {sku: t[0] for sku, t in targets.items()}
        diff = reconcile_diff(expected, found, listed=found.keys())
        drift = [d for d in diff if d.action != "none"]
        to_fix = [d for d in drift if d.action == "set"]
        outcomes: dict[str, tuple[str, str | None]] = {}
        applied: list[tuple[str, int, int]] = []
        if to_fix:
            updates = [
                QuantityUpdate(
                    sku=d.sku,
                    quantity=d.expected or 0,
                    expected_quantity=d.found,
                    external_id=targets[d.sku][3],
                    external_variant_id=targets[d.sku][4],
                )
                for d in to_fix
            ]
            try:
                res = await adapter.set_quantities(
                    updates,
                    idempotency_key=f"{inp.run_id}:b{inp.batch_no}",
                    on_wait=lambda m: activity.heartbeat(m),
                )
            except ConnectorError as exc:
                raise to_application_error(exc) from exc
            for o in res.outcomes:
                outcomes[o.sku] = (o.status, o.message)
                if o.ok:
                    applied.append((o.sku, targets[o.sku][0], targets[o.sku][1]))
        # in-sync SKUs are recorded as published too: it marks them seen by this run
        in_sync = [(d.sku, d.expected or 0, targets[d.sku][1]) for d in diff if d.action == "none"]
        await asyncio.to_thread(self._record, inp.account_id, applied + in_sync)
        moved = await asyncio.to_thread(self._versions, [s for s, _, _ in applied])
        rerun = [sku for sku, _, v in applied if moved.get(sku, v) != v]
        if rerun:  # an order changed these while we corrected them: send the latest value now
            await self.push_quantities(
                PushInput(
                    account_id=inp.account_id,
                    skus=rerun,
                    reason="reconcile re-check",
                    idempotency_key=f"{inp.run_id}:b{inp.batch_no}:recheck",
                )
            )
        rows = [
            DriftReportRow(
                run_id=inp.run_id,
                sku=d.sku,
                expected=d.expected,
                found=d.found,
                action=d.action,
                outcome=outcomes.get(d.sku, ("skipped", None))[0] if d.action == "set" else "skipped",
                message=outcomes.get(d.sku, (None, None))[1]
                or ("listing not in the master catalog; left alone" if d.action == "unknown_sku" else None),
            )
            for d in drift
        ]
        await asyncio.to_thread(self._save_drift, inp.run_id, rows)
        failed = sum(1 for s, _ in outcomes.values() if s != "applied")
        return ReconcileBatchResult(
            next_cursor=cursor,
            checked=len(found),
            drifted=len(drift),
            corrected=len(applied),
            failed=failed,
            unknown=sum(1 for d in drift if d.action == "unknown_sku"),
        )

    def _save_drift(self, run_id: str, rows: list[DriftReportRow]) -> None:
        if not rows:
            return
        with session_scope(self.engine) as s:
            # a retried batch replaces its own rows (unique run_id + sku)
            s.execute(
                sa.delete(DriftReportRow).where(
                    DriftReportRow.run_id == run_id,
                    DriftReportRow.sku.in_([r.sku for r in rows]),  # type: ignore[arg-type, attr-defined]
                )
            )
            s.add_all(rows)

    @activity.defn(name="stock-reconcile-close")
    def reconcile_close(self, progress: ReconcileProgress) -> int:
        """Listings of the account this run never saw are missing on the marketplace; then the run row is closed."""
        run_id, account_id = progress.run_id, progress.account_id
        with session_scope(self.engine) as s:
            run = s.get(ReconcileRun, run_id)
            started = run.started_at if run else utcnow()
            missing = s.exec(
                select(MarketplaceListing).where(
                    MarketplaceListing.account_id == account_id,
                    MarketplaceListing.status != "ended",
                    sa.or_(
                        MarketplaceListing.last_synced_at.is_(None),
                        MarketplaceListing.last_synced_at < started,
                    ),  # type: ignore[union-attr, operator]
                )
            ).all()
            existing = set(s.exec(select(DriftReportRow.sku).where(DriftReportRow.run_id == run_id)).all())
            for listing in missing:
                if listing.sku not in existing:
                    s.add(
                        DriftReportRow(
                            run_id=run_id,
                            sku=listing.sku,
                            expected=listing.quantity,
                            found=None,
                            action="missing_on_marketplace",
                            outcome="skipped",
                            message="listed in the master but not found on the marketplace",
                        )
                    )
            if run is not None:
                for key in ("checked", "drifted", "corrected", "failed", "unknown"):
                    setattr(run, key, getattr(progress, key))
                run.drifted += len([m for m in missing if m.sku not in existing])
                run.status = progress.status
                run.finished_at = utcnow()
                s.add(run)
        return len(missing)

    # ------------------------------------------------------------------ polling
    @activity.defn(name="stock-poll-orders")
    async def poll_orders(self, inp: PollInput) -> PollPage:
        """One page of orders after the stored cursor. The cursor is NOT advanced here (see save_cursor)."""
        cursor = await asyncio.to_thread(self._cursor, inp.account_id)
        adapter = self.marketplaces.get(inp.account_id)
        try:
            page = await adapter.list_orders(cursor)
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        orders = [
            OrderSyncInput(
                account_id=inp.account_id,
                marketplace=o.marketplace,
                order_id=o.order_id,
                source="poll",
                policy=inp.policy,
                lines=[OrderLinePayload(sku=line.sku, quantity=line.quantity) for line in o.lines],
            )
            for o in page.orders
            if o.lines and not o.cancelled
        ]
        return PollPage(orders=orders, next_cursor=page.next_cursor, has_more=page.has_more)

    def _cursor(self, account_id: int) -> str | None:
        with Session(self.engine) as s:
            row = s.get(OrderCursor, account_id)
            return row.cursor if row else None

    @activity.defn(name="stock-save-cursor")
    def save_cursor(self, inp: SaveCursorInput) -> None:
        if inp.cursor is None:
            return
        with session_scope(self.engine) as s:
            row = s.get(OrderCursor, inp.account_id) or OrderCursor(account_id=inp.account_id)
            row.cursor, row.updated_at = inp.cursor, utcnow()
            s.add(row)


ACTIVITIES: list[type] = [StockActivities]
