"""The one way stock reaches a marketplace: push each SKU's availability read at send time, re-check versions.

Pushes never send a quantity computed earlier: they read the master at send time, and after the marketplace has
answered they compare the SKUs' stock versions again and re-send the ones that moved meanwhile. Whatever the order
of concurrent pushes (an order push and a reconcile for the same SKU), the last value applied on the marketplace was
sent by someone who checked the version after it was applied, so no stale quantity is left behind.

A push whose answer was lost is never resent as it was: the transport raises it with `outcome_unknown`
(connectors/http.py), the adapter reports its items "failed", and the next round here - or Temporal's retry of the
activity when the adapter raised - reads the master again and sends the value current then. So a replay of an older
"quantity = 4" can never land after the "quantity = 0" of a sale in between (tests/stock/test_stale_replay.py).
Shopify's compareQuantity is not used for pushes: the live count also moves with Shopify's own sales, so a guard on
the last value we published would refuse most pushes; reconciles, which have just read the live count, use it.

Idempotency keys of pushes end with a digest of the values sent: a retried attempt that computes the same values
replays the same key (the marketplace recognises it), one that computes new values (stock moved while the first
attempt's answer was lost) must not reuse the key - a marketplace that honours keys would replay the old answer and
keep the old quantity.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from activities.common.errors import to_application_error
from activities.common.heartbeats import heartbeat
from activities.stock.repository import PublishTarget, current_versions, mark_published, publish_targets
from connectors.errors import ConnectorError
from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.types import QuantityUpdate
from merchflow.db.engine import read_session, session_scope
from merchflow.telemetry.metrics import STOCK_PUSHES
from workers.deps import Deps
from workflows.stock.contract import PushItem, PushResult

MAX_PUSH_ROUNDS = 4


def values_digest(updates: Sequence[QuantityUpdate]) -> str:
    h = hashlib.sha256()
    for u in sorted(updates, key=lambda u: u.sku):
        h.update(f"{u.sku}\x00{u.quantity}\x00{u.expected_quantity}\x01".encode())
    return h.hexdigest()[:12]


class StockBase:
    """Database and marketplace helpers shared by the order and the reconcile activities."""

    def __init__(self, deps: Deps) -> None:
        self.engine: sa.Engine = deps.engine
        self.policy = deps.settings.shortage_policy
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings
        )

    def _targets(self, account_id: int, skus: Sequence[str]) -> dict[str, PublishTarget]:
        with read_session(self.engine) as s:
            return {t.sku: t for t in publish_targets(s, skus, account_id=account_id)}

    def _record(self, account_id: int, rows: list[tuple[str, int, int]], error: str | None = None) -> None:
        if rows:
            with session_scope(self.engine) as s:
                mark_published(s, account_id=account_id, rows=rows, error=error)

    def _versions(self, skus: Sequence[str]) -> dict[str, int]:
        if not skus:
            return {}
        with read_session(self.engine) as s:
            return current_versions(s, skus)

    async def push(
        self, account_id: int, skus: Sequence[str], key: str, on_wait: Callable[[str], None] | None = None
    ) -> PushResult:
        """Send each SKU's current availability to one account until what is live was computed from the latest
        stock version (bounded rounds); items the marketplace could not take are retried in the next round."""
        adapter = self.marketplaces.get(account_id)
        pending = list(dict.fromkeys(skus))
        final: dict[str, PushItem] = {}
        rounds = 0
        while pending and rounds < MAX_PUSH_ROUNDS:
            rounds += 1
            targets = await asyncio.to_thread(self._targets, account_id, pending)
            for sku in pending:
                if sku not in targets:
                    final[sku] = PushItem(sku=sku, status="skipped", message="not listed on this account")
            updates = [
                QuantityUpdate(
                    sku=t.sku,
                    quantity=t.quantity,
                    external_id=t.external_id,
                    external_variant_id=t.external_variant_id,
                )
                for t in targets.values()
            ]
            if not updates:
                break
            # `updates` were read just above, in this round: a retry never sends a value computed before a lost answer
            try:
                result = await adapter.set_quantities(
                    updates, idempotency_key=f"{key}:r{rounds}:{values_digest(updates)}", on_wait=on_wait
                )
            except ConnectorError as exc:
                raise to_application_error(exc) from exc
            applied = []
            for o in result.outcomes:
                t = targets[o.sku]
                final[o.sku] = PushItem(sku=o.sku, status=o.status, quantity=t.quantity, message=o.message)
                if o.ok:
                    applied.append((o.sku, t.quantity, t.version))
            await asyncio.to_thread(self._record, account_id, applied)
            now = await asyncio.to_thread(self._versions, [s for s, _, _ in applied])
            pending = [sku for sku, _, version in applied if now.get(sku, version) != version]
            pending += [o.sku for o in result.outcomes if o.status in ("failed", "conflict")]
            heartbeat({"round": rounds, "pending": len(pending)})
        for item in final.values():  # pushes by marketplace and outcome
            STOCK_PUSHES.labels(adapter.marketplace, item.status).inc()
        return PushResult(account_id=account_id, items=list(final.values()), rounds=rounds)
