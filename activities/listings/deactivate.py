"""Deactivating an archived product's listings: the `listing_deactivate` decision's action (registered with the
decision executor by the listings feature), and the activities of the product-archive workflow around it.

The action re-checks its premise (the product is still archived) and, under the decision's idempotency key, takes
the listings out of every automation so nothing publishes to them any more; the workflow then ends each listing on
its marketplace (end_listing, idempotent) and marks it ended.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from activities.common.heartbeats import heartbeat
from activities.decisions.actions import ActionFailed
from connectors.errors import ConnectorError
from connectors.marketplace.accounts import MarketplaceRegistry
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput
from workflows.listings.contract import (
    EndListingsInput,
    EndListingsResult,
    LinkedListing,
    LinkedListingsInput,
    LinkedListingsResult,
)

L = MarketplaceListing.__table__  # type: ignore[attr-defined]
A = MarketplaceAccount.__table__  # type: ignore[attr-defined]
P = Product.__table__  # type: ignore[attr-defined]


def live_links(conn: sa.Connection, sku: str) -> list[LinkedListing]:
    q = (
        sa.select(
            L.c.id,
            L.c.account_id,
            A.c.marketplace,
            A.c.name,
            sa.func.coalesce(L.c.marketplace_sku, L.c.sku),
            L.c.status,
        )
        .select_from(L.join(A, A.c.id == L.c.account_id))
        .where(L.c.sku == sku, L.c.status != "ended", A.c.status != "removed")
        .order_by(L.c.id)
    )
    return [LinkedListing(listing_id=i, account_id=a, marketplace=m, account_name=n, marketplace_sku=ms, status=s)
            for i, a, m, n, ms, s in conn.execute(q)]  # fmt: skip


class DeactivateListingsHandler:
    """ActionHandler of `listing_deactivate`: subject = the product SKU, current.listings = the link ids proposed."""

    def __init__(self, deps: Deps | None = None) -> None:
        self.deps = deps

    def _ids(self, req: ExecuteInput) -> list[int]:
        return [int(x) for x in req.proposal.current.get("listings", [])]

    def lock(self, session: Session, req: ExecuteInput) -> None:
        q = sa.select(L.c.id).where(L.c.id.in_(self._ids(req)))
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        session.connection().execute(q)

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        status = (
            session.connection()
            .execute(sa.select(P.c.status).where(P.c.sku == req.proposal.subject))
            .scalar_one_or_none()
        )
        if status is None:
            raise ActionFailed(f"product {req.proposal.subject} no longer exists")
        if status != "archived":  # restored meanwhile: ending its listings is not what anyone wants now
            raise ActionFailed(f"product {req.proposal.subject} is {status} again: its listings stay")
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        ids = self._ids(req)
        session.connection().execute(
            sa.update(L)
            .where(L.c.id.in_(ids), L.c.status != "ended")
            .values(stock_automation=False, price_automation=False)
        )
        return {
            "sku": req.proposal.subject,
            "listings": ids,
            "action": "taken out of automation; ending on the marketplaces",
        }


class ArchiveActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings
        )

    @activity.defn(name="product-archive-listings")
    def linked(self, inp: LinkedListingsInput) -> LinkedListingsResult:
        with self.engine.connect() as conn:
            return LinkedListingsResult(listings=live_links(conn, inp.sku))

    @activity.defn(name="product-archive-end-listings")
    async def end_listings(self, inp: EndListingsInput) -> EndListingsResult:
        """End each listing on its marketplace (the account adapter speaks master SKUs); one that cannot be ended is
        reported, the others go on. Ended listings are marked so, never pushed to again."""
        ended: list[int] = []
        failed: dict[str, str] = {}
        for listing in inp.listings:
            try:
                adapter = self.marketplaces.get(listing.account_id)
                result = await adapter.end_listing(inp.sku, idempotency_key=f"{inp.key}:{listing.listing_id}")
            except ConnectorError as exc:
                failed[str(listing.listing_id)] = str(exc)[:300]
                continue
            heartbeat(listing.listing_id)
            if result.status == "applied" or result.code in ("not_found", "NOT_FOUND"):
                ended.append(listing.listing_id)
            else:
                failed[str(listing.listing_id)] = (result.message or result.status)[:300]
        if ended:
            with self.engine.begin() as conn:
                conn.execute(sa.update(L).where(L.c.id.in_(ended)).values(status="ended"))
        return EndListingsResult(ended=ended, failed=failed)
