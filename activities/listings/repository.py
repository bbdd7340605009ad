"""Listing sync in the database: stage what the marketplace shows, read the facts matching needs, write the matches
and the links, and count the report. Set-based statements that behave the same on SQLite and PostgreSQL; callers
own the transaction (one batch: staging, matches and links commit together).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from activities.listings.tables import ChannelListing, ListingSyncRun
from connectors.marketplace.types import ListingSnapshot
from domain.identifiers import match_keys
from domain.listings.matching import ListingFacts, MasterView, Match, ProductFacts
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, ProductIdentifier

CH = ChannelListing.__table__  # type: ignore[attr-defined]
RUN = ListingSyncRun.__table__  # type: ignore[attr-defined]
LINK = MarketplaceListing.__table__  # type: ignore[attr-defined]
ACC = MarketplaceAccount.__table__  # type: ignore[attr-defined]
PROD = Product.__table__  # type: ignore[attr-defined]
PID = ProductIdentifier.__table__  # type: ignore[attr-defined]
IN_CHUNK = 2000  # well under SQLite's bound-parameter limit
_LINK_METHOD = {"gtin", "asin", "mpn"}


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


# ---------------------------------------------------------------- staging what the marketplace shows
def stage(
    conn: sa.Connection, *, account_id: int, run_id: str, items: Sequence[ListingSnapshot], now: datetime
) -> None:
    """Upsert the listings as read; their match fields stay as they were until `apply` decides."""
    if not items:
        return
    stmt = _insert(conn, CH)
    cols = ("external_id", "external_variant_id", "title", "brand", "identifiers", "price", "currency", "quantity",
            "status", "parent_sku", "options", "last_run_id", "gone", "updated_at")  # fmt: skip
    stmt = stmt.on_conflict_do_update(
        index_elements=[CH.c.account_id, CH.c.marketplace_sku], set_={c: stmt.excluded[c] for c in cols}
    )
    seen: dict[str, dict[str, Any]] = {}
    for s in items:
        seen[s.sku[:200]] = {
            "account_id": account_id,
            "marketplace_sku": s.sku[:200],
            "external_id": (s.external_id or None) and str(s.external_id)[:200],
            "external_variant_id": (s.external_variant_id or None) and str(s.external_variant_id)[:200],
            "title": (s.title or None) and s.title[:500],
            "brand": (s.brand or None) and s.brand[:200],
            "identifiers": {k: str(v)[:120] for k, v in s.identifiers.items()},
            "price": s.price,
            "currency": (s.currency or None) and s.currency[:3],
            "quantity": s.quantity,
            "status": (s.status or None) and s.status[:32],
            "parent_sku": (s.parent_sku or None) and s.parent_sku[:200],
            "options": s.options,
            "match_state": "unmatched",
            "last_run_id": run_id,
            "gone": False,
            "updated_at": now,
        }
    conn.execute(stmt, list(seen.values()))


def facts(conn: sa.Connection, *, account_id: int, mskus: Sequence[str]) -> list[ListingFacts]:
    out: list[ListingFacts] = []
    for part in _chunks(list(mskus)):
        q = sa.select(
            CH.c.marketplace_sku, CH.c.identifiers, CH.c.match_state, CH.c.product_sku, CH.c.match_method
        ).where(CH.c.account_id == account_id, CH.c.marketplace_sku.in_(part))
        for r in conn.execute(q):
            out.append(
                ListingFacts(
                    r.marketplace_sku, dict(r.identifiers or {}), r.match_state, r.product_sku, r.match_method
                )
            )
    order = {m: i for i, m in enumerate(mskus)}
    return sorted(out, key=lambda f: order.get(f.marketplace_sku, 0))


def master_view(conn: sa.Connection, *, account_id: int, listings: Sequence[ListingFacts]) -> MasterView:
    """Active products the batch could link to (same SKU, or sharing an identifier key), their keys, and the
    account's existing links of those products."""
    view = MasterView()
    keys_by_kind: dict[str, set[str]] = {}
    for f in listings:
        for kind, value in match_keys(dict(f.identifiers)):
            keys_by_kind.setdefault(kind, set()).add(value)
    candidates: set[str] = set()
    active = PROD.c.status == "active"
    for part in _chunks(
        [f.marketplace_sku for f in listings] + [f.product_sku for f in listings if f.product_sku]
    ):
        candidates |= set(conn.execute(sa.select(PROD.c.sku).where(PROD.c.sku.in_(part), active)).scalars())
    for kind, values in keys_by_kind.items():
        for part in _chunks(sorted(values)):
            q = (
                sa.select(PID.c.sku, PID.c.value)
                .select_from(PID.join(PROD, PROD.c.sku == PID.c.sku))
                .where(PID.c.kind == kind, PID.c.value.in_(part), active)
            )
            for sku, value in conn.execute(q):
                view.by_key.setdefault((kind, value), []).append(sku)
                candidates.add(sku)
    keys: dict[str, set[tuple[str, str]]] = {sku: set() for sku in candidates}
    for part in _chunks(sorted(candidates)):
        for sku, kind, value in conn.execute(
            sa.select(PID.c.sku, PID.c.kind, PID.c.value).where(PID.c.sku.in_(part))
        ):
            keys[sku].add((kind, value))
        q = sa.select(LINK.c.sku, sa.func.coalesce(LINK.c.marketplace_sku, LINK.c.sku)).where(
            LINK.c.account_id == account_id, LINK.c.sku.in_(part)
        )
        view.links.update({sku: theirs for sku, theirs in conn.execute(q)})
    view.products = {sku: ProductFacts(sku, frozenset(k)) for sku, k in keys.items()}
    return view


# ---------------------------------------------------------------- writing matches and links
def apply(conn: sa.Connection, *, account_id: int, matches: Sequence[Match], now: datetime) -> None:
    """Store each listing's match; links follow: a listing no longer linked to its product loses the link, a new
    link is inserted (or re-pointed), an existing one refreshed with what the marketplace shows."""
    if not matches:
        return
    conn.execute(
        sa.update(CH)
        .where(CH.c.account_id == account_id, CH.c.marketplace_sku == sa.bindparam("b_msku"))
        .values(
            match_state=sa.bindparam("b_state"),
            product_sku=sa.bindparam("b_product"),
            match_method=sa.bindparam("b_method"),
            conflict=sa.bindparam("b_conflict"),
            candidate_sku=sa.bindparam("b_candidate"),
        ),
        [
            {
                "b_msku": m.marketplace_sku,
                "b_state": m.state,
                "b_product": m.product_sku,
                "b_method": m.method,
                "b_conflict": (m.conflict or None) and m.conflict[:500],
                "b_candidate": m.candidate_sku,
            }
            for m in matches
        ],
    )
    linked = {m.marketplace_sku: m for m in matches if m.state == "linked" and m.product_sku}
    mskus = [m.marketplace_sku for m in matches]
    # links of these listings that point elsewhere (or nowhere now) go
    theirs = sa.func.coalesce(LINK.c.marketplace_sku, LINK.c.sku)
    for part in _chunks(mskus):
        current = conn.execute(sa.select(LINK.c.id, LINK.c.sku, theirs.label("msku")).where(
            LINK.c.account_id == account_id, theirs.in_(part))).all()  # fmt: skip
        stale = [r.id for r in current if r.msku not in linked or linked[r.msku].product_sku != r.sku]
        if stale:
            conn.execute(sa.delete(LINK).where(LINK.c.id.in_(stale)))
    if not linked:
        return
    snaps = {
        r.marketplace_sku: r
        for part in _chunks(list(linked))
        for r in conn.execute(
            sa.select(CH).where(CH.c.account_id == account_id, CH.c.marketplace_sku.in_(part))
        )
    }
    rows: list[dict[str, Any]] = []
    for msku, m in linked.items():
        snap = snaps[msku]
        rows.append({
            "account_id": account_id, "sku": m.product_sku, "marketplace_sku": None if msku == m.product_sku else msku,
            "external_id": snap.external_id, "external_variant_id": snap.external_variant_id, "price": snap.price,
            "quantity": snap.quantity, "status": "ended" if snap.status == "ended" else "active",
            "link_method": m.method, "linked_at": now, "published_version": 0, "stock_automation": True,
            "price_automation": m.method != "created",
        })  # fmt: skip
    stmt = _insert(conn, LINK)
    refreshed = (
        "marketplace_sku",
        "external_id",
        "external_variant_id",
        "price",
        "quantity",
        "status",
        "link_method",
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[LINK.c.account_id, LINK.c.sku], set_={c: stmt.excluded[c] for c in refreshed}
    )
    conn.execute(stmt, rows)
    # only links new to this sync get their link time (the upsert keeps an existing link's)
    new = [m for m in linked.values() if m.new_link]
    if new:
        conn.execute(
            sa.update(LINK)
            .where(LINK.c.account_id == account_id, LINK.c.sku == sa.bindparam("b_sku"))
            .values(linked_at=now),
            [{"b_sku": m.product_sku} for m in new],
        )
