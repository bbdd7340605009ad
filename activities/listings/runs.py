"""Listing-sync runs in the database: the run row and the account's sync state, and the end of a sync (identifier
links that give way to same-SKU listings, listings gone from the marketplace, the report counted from what is
stored). Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from activities.listings.repository import ACC, CH, LINK, PROD, RUN, _chunks
from domain.listings.matching import SyncReport

_LINK_METHOD = {"gtin", "asin", "mpn"}


def start_run(conn: sa.Connection, *, run_id: str, account_id: int, trigger: str, now: datetime) -> None:
    exists = conn.execute(sa.select(RUN.c.id).where(RUN.c.id == run_id)).first()
    if exists is None:
        conn.execute(sa.insert(RUN).values(id=run_id, account_id=account_id, trigger=trigger, status="running",
                                           pages=0, listings=0, report={}, started_at=now))  # fmt: skip
    set_account_sync(
        conn,
        account_id=account_id,
        value={"status": "running", "run_id": run_id, "started_at": now.isoformat()},
    )


def set_account_sync(conn: sa.Connection, *, account_id: int, value: dict[str, Any]) -> None:
    conn.execute(sa.update(ACC).where(ACC.c.id == account_id).values(listing_sync=value))


def run_row(conn: sa.Connection, run_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(RUN).where(RUN.c.id == run_id)).mappings().first()


def identifier_links(conn: sa.Connection, *, account_id: int) -> dict[str, str]:
    q = sa.select(CH.c.marketplace_sku, CH.c.product_sku).where(
        CH.c.account_id == account_id,
        CH.c.match_state == "linked",
        CH.c.match_method.in_(sorted(_LINK_METHOD)),
    )
    return {m: p for m, p in conn.execute(q) if p}


def present_skus(conn: sa.Connection, *, account_id: int, skus: Sequence[str]) -> list[str]:
    found: list[str] = []
    for part in _chunks(list(skus)):
        found += conn.execute(
            sa.select(CH.c.marketplace_sku).where(CH.c.account_id == account_id, CH.c.marketplace_sku.in_(part), CH.c.gone.is_(False))
        ).scalars()  # fmt: skip
    return found


def mark_gone(conn: sa.Connection, *, account_id: int, run_id: str) -> int:
    """Listings a complete sync did not see: gone from the marketplace. Their links end (nothing pushes to them)."""
    gone = conn.execute(
        sa.select(CH.c.marketplace_sku).where(CH.c.account_id == account_id, CH.c.last_run_id != run_id, CH.c.gone.is_(False))
    ).scalars().all()  # fmt: skip
    for part in _chunks(list(gone)):
        conn.execute(
            sa.update(CH)
            .where(CH.c.account_id == account_id, CH.c.marketplace_sku.in_(part))
            .values(gone=True)
        )
        conn.execute(
            sa.update(LINK)
            .where(
                LINK.c.account_id == account_id,
                sa.func.coalesce(LINK.c.marketplace_sku, LINK.c.sku).in_(part),
            )
            .values(status="ended")
        )
    return len(gone)


def report(conn: sa.Connection, *, account_id: int, run_id: str, started_at: datetime) -> SyncReport:
    """The run's report, counted from what is stored (exact whatever batches were retried)."""
    by_state: dict[str, int] = dict(
        conn.execute(
            sa.select(CH.c.match_state, sa.func.count())
            .where(CH.c.account_id == account_id, CH.c.last_run_id == run_id)
            .group_by(CH.c.match_state)
        ).all()
    )
    made: dict[str, int] = dict(
        conn.execute(
            sa.select(LINK.c.link_method, sa.func.count())
            .select_from(
                LINK.join(
                    CH,
                    sa.and_(
                        CH.c.account_id == LINK.c.account_id,
                        CH.c.marketplace_sku == sa.func.coalesce(LINK.c.marketplace_sku, LINK.c.sku),
                    ),
                )
            )
            .where(
                LINK.c.account_id == account_id, LINK.c.linked_at >= started_at, CH.c.last_run_id == run_id
            )
            .group_by(LINK.c.link_method)
        ).all()
    )
    child = sa.alias(PROD, "child")
    without = conn.execute(
        sa.select(sa.func.count()).select_from(PROD).where(
            PROD.c.status == "active",
            ~sa.exists().where(LINK.c.account_id == account_id, LINK.c.sku == PROD.c.sku, LINK.c.status != "ended"),
            ~sa.exists().where(child.c.parent_sku == PROD.c.sku),  # a parent sells through its variants
        )
    ).scalar_one()  # fmt: skip
    gone = conn.execute(
        sa.select(sa.func.count()).where(CH.c.account_id == account_id, CH.c.gone.is_(True))
    ).scalar_one()
    return SyncReport(
        listings=sum(by_state.values()),
        linked=by_state.get("linked", 0),
        created=sum(made.values()),
        by_sku=made.get("sku", 0),
        by_identifier=sum(v for k, v in made.items() if k in _LINK_METHOD),
        conflicts=by_state.get("conflict", 0),
        listings_without_product=by_state.get("unmatched", 0),
        ignored=by_state.get("ignored", 0),
        gone=gone,
        products_without_listing=without,
    )


def finish_run(
    conn: sa.Connection, *, run_id: str, account_id: int, status: str, error: str | None, pages: int, listings: int,
    result: SyncReport, now: datetime,
) -> None:  # fmt: skip
    conn.execute(
        sa.update(RUN).where(RUN.c.id == run_id).values(
            status=status, error=(error or None) and error[:2000], pages=pages, listings=listings,
            report=result.model_dump(), finished_at=now,
        )
    )  # fmt: skip
    started = conn.execute(sa.select(RUN.c.started_at).where(RUN.c.id == run_id)).scalar_one()
    set_account_sync(conn, account_id=account_id, value={
        "status": status, "run_id": run_id, "started_at": started.isoformat(), "finished_at": now.isoformat(),
        "report": result.model_dump(), **({"error": error[:500]} if error else {}),
    })  # fmt: skip
    # links changed: adapters reload their SKU translations (connectors.marketplace.accounts)
    conn.execute(sa.update(ACC).where(ACC.c.id == account_id).values(revision=ACC.c.revision + 1))
