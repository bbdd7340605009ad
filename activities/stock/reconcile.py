"""Reconcile activities: read a batch of one account's listings, diff them against the master (domain.stock.rules), push
corrections with compare-and-set, record the drift report; close the run with the listings the marketplace lacks.

A batch is read page by page; every slice of ~1,000 SKUs read is diffed at once and its corrections are sent in the
background while the next pages are read, so the marketplace's reads and writes overlap. Drift rows are written
before their corrections are sent (outcome "pending"), so a batch retried after a crash still reports what the
crashed attempt corrected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity

from activities.common.errors import to_application_error
from activities.common.heartbeats import kept_alive
from activities.stock.push import StockBase, values_digest
from activities.stock.repository import IN_CHUNK, PublishTarget, mark_published, mark_seen, publish_targets
from activities.stock.tables import DriftReportRow, ReconcileRun
from connectors.errors import ConnectorError
from connectors.marketplace.port import Marketplace
from connectors.marketplace.types import ListingSnapshot, QuantityUpdate
from domain.stock.rules import DriftItem, reconcile_diff
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceListing
from merchflow.db.types import utcnow
from merchflow.telemetry.metrics import DRIFT
from workflows.stock.contract import (
    ReconcileBatchInput,
    ReconcileBatchResult,
    ReconcileCloseResult,
    ReconcileProgress,
    ReconcileStartResult,
)

SLICE = 1000  # SKUs diffed and corrected together while the next pages are read
UNKNOWN_MESSAGE = "listing not in the master catalog; left alone"
_D = DriftReportRow.__table__  # type: ignore[attr-defined]


class _Batch:
    """What one reconcile batch has seen and done so far."""

    def __init__(self) -> None:
        self.checked = 0
        self.drift: list[DriftItem] = []
        self.in_sync: list[str] = []
        self.applied: list[tuple[str, int, int]] = []
        self.outcomes: dict[str, tuple[str, str | None]] = {}


class StockReconcileActivities(StockBase):
    @activity.defn(name="stock-reconcile-start")
    def reconcile_start(self, inp: ReconcileBatchInput) -> ReconcileStartResult:
        with session_scope(self.engine) as s:
            if s.get(ReconcileRun, inp.run_id) is not None:
                return ReconcileStartResult(created=False)
            s.add(ReconcileRun(id=inp.run_id, account_id=inp.account_id, parent_id=None))
        return ReconcileStartResult(created=True)

    @activity.defn(name="stock-reconcile-batch")
    async def reconcile_batch(self, inp: ReconcileBatchInput) -> ReconcileBatchResult:
        async with kept_alive():
            return await self._batch(inp)

    async def _batch(self, inp: ReconcileBatchInput) -> ReconcileBatchResult:
        adapter = self.marketplaces.get(inp.account_id)
        batch = _Batch()
        writes: list[asyncio.Task[None]] = []
        cursor, buffer, slices = inp.cursor, [], 0
        slice_size = min(inp.batch_size, max(SLICE, adapter.max_batch))
        try:
            while True:
                page = await adapter.list_listings(cursor)
                cursor = page.next_cursor
                buffer += page.items
                activity.heartbeat({"batch": inp.batch_no, "read": batch.checked + len(buffer)})
                last = cursor is None or batch.checked + len(buffer) >= inp.batch_size
                if len(buffer) >= slice_size or last:
                    fixes = await self._diff(inp, batch, buffer)
                    if fixes:
                        key = f"{inp.run_id}:b{inp.batch_no}:s{slices}"
                        writes.append(asyncio.create_task(self._correct(adapter, inp, batch, fixes, key)))
                    buffer, slices = [], slices + 1
                if last:
                    break
            await asyncio.gather(*writes)
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        finally:
            for w in writes:
                w.cancel()
        await asyncio.to_thread(self._finish, inp, batch)
        moved = await asyncio.to_thread(self._versions, [s for s, _, _ in batch.applied])
        rerun = [sku for sku, _, v in batch.applied if moved.get(sku, v) != v]
        # Corrections whose outcome is unknown (5xx, lost answer: the transport does not resend writes) or that
        # failed for a moment: push them again, which reads the master at send time and retries failed items.
        failed = [sku for sku, (status, _) in batch.outcomes.items() if status == "failed"]
        rerun += [sku for sku in failed if sku not in rerun]
        if rerun:  # an order changed these while we corrected them, or they failed: send the latest value now
            pushed = await self.push(inp.account_id, rerun, f"{inp.run_id}:b{inp.batch_no}:recheck")
            again = [i for i in pushed.items if i.sku in batch.outcomes and i.status != "skipped"]
            for item in again:
                batch.outcomes[item.sku] = (item.status, item.message)
            # the drift report shows the final say
            await asyncio.to_thread(self._record_outcomes, inp, [], again)
        DRIFT.labels(adapter.marketplace, "found").inc(len(batch.drift))
        DRIFT.labels(adapter.marketplace, "corrected").inc(len(batch.applied))
        return ReconcileBatchResult(
            next_cursor=cursor,
            checked=batch.checked,
            drifted=len(batch.drift),
            corrected=sum(1 for status, _ in batch.outcomes.values() if status == "applied"),
            failed=sum(1 for status, _ in batch.outcomes.values() if status != "applied"),
            unknown=sum(1 for d in batch.drift if d.action == "unknown_sku"),
        )

    async def _diff(
        self, inp: ReconcileBatchInput, batch: _Batch, items: list[ListingSnapshot]
    ) -> list[tuple[DriftItem, PublishTarget]]:
        found = {item.sku: item.quantity for item in items}
        targets = await asyncio.to_thread(self._targets, inp.account_id, list(found))
        diff = reconcile_diff({sku: t.quantity for sku, t in targets.items()}, found, listed=found.keys())
        drift = [d for d in diff if d.action != "none"]
        batch.checked += len(found)
        batch.drift += drift
        batch.in_sync += [d.sku for d in diff if d.action == "none"]
        # only a retried batch can have rows an earlier attempt left "pending"
        settled = [d.sku for d in diff if d.action == "none"] if activity.info().attempt > 1 else []
        await asyncio.to_thread(self._save_drift, inp.run_id, drift, settled)
        return [(d, targets[d.sku]) for d in drift if d.action == "set"]

    async def _correct(
        self,
        adapter: Marketplace,
        inp: ReconcileBatchInput,
        batch: _Batch,
        fixes: list[tuple[DriftItem, PublishTarget]],
        key: str,
    ) -> None:
        updates = [
            QuantityUpdate(
                sku=d.sku,
                quantity=d.expected or 0,
                expected_quantity=d.found,  # compare-and-set where the marketplace has it
                external_id=t.external_id,
                external_variant_id=t.external_variant_id,
            )
            for d, t in fixes
        ]
        res = await adapter.set_quantities(
            updates, idempotency_key=f"{key}:{values_digest(updates)}", on_wait=activity.heartbeat
        )
        sent = {d.sku: (d.expected or 0, t.version) for d, t in fixes}
        applied = [(o.sku, *sent[o.sku]) for o in res.outcomes if o.ok and o.sku in sent]
        for o in res.outcomes:
            batch.outcomes[o.sku] = (o.status, o.message)
        batch.applied += applied
        await asyncio.to_thread(self._record_outcomes, inp, applied, res.outcomes)

    # ------------------------------------------------------------------ database
    def _save_drift(self, run_id: str, drift: Sequence[DriftItem], in_sync: Sequence[str]) -> None:
        with session_scope(self.engine) as s:
            conn = s.connection()
            if in_sync:  # fixed by an earlier attempt of this batch that crashed before recording it
                for i in range(0, len(in_sync), IN_CHUNK):
                    conn.execute(
                        sa.update(_D)
                        .where(_D.c.run_id == run_id, _D.c.sku.in_(list(in_sync[i : i + IN_CHUNK])))
                        .where(_D.c.outcome == "pending")
                        .values(outcome="applied", message="applied by an earlier attempt")
                    )
            if not drift:
                return
            skus = [d.sku for d in drift]
            for i in range(0, len(skus), IN_CHUNK):
                conn.execute(sa.delete(_D).where(_D.c.run_id == run_id, _D.c.sku.in_(skus[i : i + IN_CHUNK])))
            conn.execute(
                sa.insert(_D),
                [
                    {
                        "run_id": run_id,
                        "sku": d.sku,
                        "expected": d.expected,
                        "found": d.found,
                        "action": d.action,
                        "outcome": "pending" if d.action == "set" else "skipped",
                        "message": UNKNOWN_MESSAGE if d.action == "unknown_sku" else None,
                    }
                    for d in drift
                ],
            )

    def _record_outcomes(
        self, inp: ReconcileBatchInput, applied: list[tuple[str, int, int]], outcomes: Sequence[object]
    ) -> None:
        with session_scope(self.engine) as s:
            mark_published(s, account_id=inp.account_id, rows=applied)
            s.connection().execute(
                sa.update(_D)
                .where(_D.c.run_id == inp.run_id, _D.c.sku == sa.bindparam("b_sku"))
                .values(outcome=sa.bindparam("b_outcome"), message=sa.bindparam("b_message")),
                [
                    {
                        "b_sku": o.sku,
                        "b_outcome": o.status,
                        "b_message": (o.message or None) and o.message[:500],
                    }  # type: ignore[attr-defined]
                    for o in outcomes
                ],
            )

    def _finish(self, inp: ReconcileBatchInput, batch: _Batch) -> None:
        if batch.in_sync:
            with session_scope(self.engine) as s:
                mark_seen(s, account_id=inp.account_id, skus=batch.in_sync)

    @activity.defn(name="stock-reconcile-close")
    def reconcile_close(self, progress: ReconcileProgress) -> ReconcileCloseResult:
        """Listings of the account this run never saw are missing on the marketplace; then the run row is closed."""
        run_id, account_id = progress.run_id, progress.account_id
        with session_scope(self.engine) as s:
            run = s.get(ReconcileRun, run_id)
            if progress.status != "completed":
                if run is not None:
                    run.status, run.error, run.finished_at = progress.status, progress.error, utcnow()
                    for key in ("checked", "drifted", "corrected", "failed", "unknown"):
                        setattr(run, key, getattr(progress, key))
                    s.add(run)
                return ReconcileCloseResult(missing=0)
            started = run.started_at if run else utcnow()
            missing = s.exec(
                select(MarketplaceListing).where(
                    MarketplaceListing.account_id == account_id,
                    MarketplaceListing.status != "ended",
                    sa.or_(
                        MarketplaceListing.last_synced_at.is_(None),  # type: ignore[union-attr]
                        MarketplaceListing.last_synced_at < started,  # type: ignore[operator]
                    ),
                )
            ).all()
            existing = set(s.exec(select(DriftReportRow.sku).where(DriftReportRow.run_id == run_id)).all())
            new = [m for m in missing if m.sku not in existing]
            should = {
                t.sku: t.quantity for t in publish_targets(s, [m.sku for m in new], account_id=account_id)
            }
            for listing in new:
                s.add(
                    DriftReportRow(
                        run_id=run_id,
                        sku=listing.sku,
                        expected=should.get(listing.sku, listing.quantity),
                        found=None,
                        action="missing_on_marketplace",
                        outcome="skipped",
                        message="listed in the master but not found on the marketplace",
                    )
                )
            if run is not None:
                for key in ("checked", "drifted", "corrected", "failed", "unknown"):
                    setattr(run, key, getattr(progress, key))
                run.drifted += len(new)
                run.status = progress.status
                run.finished_at = utcnow()
                s.add(run)
        return ReconcileCloseResult(missing=len(missing))
