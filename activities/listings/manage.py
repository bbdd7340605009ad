"""What operators do with listings through the API: resolve a conflict (link to a product, unlink, ignore), set a
listing's safety buffer and automation switches, and build master products from the listings nobody has.

Each change commits with its link row and an audit line. A changed link bumps the account's revision, so adapters
reload their SKU translations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from activities.listings import repository as repo
from domain.listings.matching import Match
from domain.listings.products import draft_from_listing
from merchflow.db.identifiers import replace_identifiers
from merchflow.db.models import AuditLog
from merchflow.db.types import utcnow

CH, LINK, PROD, ACC = repo.CH, repo.LINK, repo.PROD, repo.ACC
AUDIT = AuditLog.__table__  # type: ignore[attr-defined]


class ListingError(ValueError):
    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def listing(conn: sa.Connection, listing_id: int) -> sa.RowMapping:
    row = conn.execute(sa.select(CH).where(CH.c.id == listing_id)).mappings().first()
    if row is None:
        raise ListingError(f"no listing {listing_id}", status=404)
    return row


def _audit(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    row: sa.RowMapping,
    details: dict[str, Any],
    now: datetime,
) -> None:
    conn.execute(sa.insert(AUDIT).values(at=now, actor=actor, action=action, entity_type="channel_listing",
                                         entity_id=str(row["id"]), details={"account_id": row["account_id"],
                                         "marketplace_sku": row["marketplace_sku"], **details}))  # fmt: skip


def _bump(conn: sa.Connection, account_id: int) -> None:
    conn.execute(sa.update(ACC).where(ACC.c.id == account_id).values(revision=ACC.c.revision + 1))


def resolve(
    engine: sa.Engine, *, listing_id: int, action: Literal["link", "unlink", "ignore"], actor: str,
    product_sku: str | None = None, replace: bool = False,
) -> sa.RowMapping:  # fmt: skip
    """link: to `product_sku` (an active product; `replace` takes it from another listing of the account);
    unlink: back to "unmatched" until the next sync; ignore: never linked, by any sync, until resolved again."""
    now = utcnow()
    with engine.begin() as conn:
        row = listing(conn, listing_id)
        account_id, msku = row["account_id"], row["marketplace_sku"]
        if action == "link":
            if not product_sku:
                raise ListingError("give the product_sku to link this listing to")
            status = conn.execute(
                sa.select(PROD.c.status).where(PROD.c.sku == product_sku)
            ).scalar_one_or_none()
            if status != "active":
                raise ListingError(f"no active product {product_sku}", status=404 if status is None else 409)
            holder = conn.execute(
                sa.select(sa.func.coalesce(LINK.c.marketplace_sku, LINK.c.sku)).where(LINK.c.account_id == account_id, LINK.c.sku == product_sku)
            ).scalar_one_or_none()  # fmt: skip
            if holder is not None and holder != msku:
                if not replace:
                    raise ListingError(f"product {product_sku} is linked to listing {holder} of this account; "
                                       "send replace=true to move the link", status=409)  # fmt: skip
                repo.apply(conn, account_id=account_id, now=now, matches=[
                    Match(holder, "conflict", conflict=f"an operator linked product {product_sku} to listing {msku}", candidate_sku=product_sku)
                ])  # fmt: skip
            repo.apply(
                conn,
                account_id=account_id,
                now=now,
                matches=[Match(msku, "linked", product_sku, "manual", new_link=True)],
            )
        elif action == "unlink":
            repo.apply(conn, account_id=account_id, now=now, matches=[Match(msku, "unmatched")])
        else:
            repo.apply(conn, account_id=account_id, now=now, matches=[Match(msku, "ignored")])
        _audit(
            conn,
            actor=actor,
            action=f"listing_{action}",
            row=row,
            details={"product_sku": product_sku},
            now=now,
        )
        _bump(conn, account_id)
        return listing(conn, listing_id)


def set_options(engine: sa.Engine, *, listing_id: int, actor: str, changes: dict[str, Any]) -> sa.RowMapping:
    """safety_buffer (None: the account's), stock_automation, price_automation: on the listing's link."""
    now = utcnow()
    with engine.begin() as conn:
        row = listing(conn, listing_id)
        if row["match_state"] != "linked" or not row["product_sku"]:
            raise ListingError(
                "only a linked listing has a buffer and automation switches: link it first", status=409
            )
        conn.execute(
            sa.update(LINK)
            .where(LINK.c.account_id == row["account_id"], LINK.c.sku == row["product_sku"])
            .values(**changes)
        )
        _audit(conn, actor=actor, action="listing_options", row=row, details=changes, now=now)
        return link_of(conn, row)


def link_of(conn: sa.Connection, row: sa.RowMapping) -> sa.RowMapping:
    if not row["product_sku"]:
        return row
    found = conn.execute(
        sa.select(LINK.c.safety_buffer, LINK.c.stock_automation, LINK.c.price_automation, LINK.c.link_method, LINK.c.linked_at)
        .where(LINK.c.account_id == row["account_id"], LINK.c.sku == row["product_sku"])
    ).mappings().first()  # fmt: skip
    return found or row


@dataclass
class CreateReport:
    created: int = 0
    linked: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


def create_products(
    engine: sa.Engine,
    *,
    account_id: int,
    actor: str,
    listing_ids: Sequence[int] | None = None,
    limit: int = 100_000,
) -> CreateReport:
    """Master products from unmatched listings of the account (all, or the given ones), each linked to its
    listing. A listing whose SKU a product has already is reported, not merged (resolve it by hand)."""
    out = CreateReport()
    now = utcnow()
    with engine.begin() as conn:
        marketplace = conn.execute(
            sa.select(ACC.c.marketplace).where(ACC.c.id == account_id)
        ).scalar_one_or_none()
        if marketplace is None:
            raise ListingError(f"no marketplace account {account_id}", status=404)
        q = sa.select(CH).where(
            CH.c.account_id == account_id, CH.c.match_state == "unmatched", CH.c.gone.is_(False)
        )
        if listing_ids is not None:
            q = q.where(CH.c.id.in_(list(listing_ids)))
        rows = conn.execute(q.order_by(CH.c.id).limit(limit)).mappings().all()
        existing: set[str] = set()
        for part in repo._chunks([r["marketplace_sku"] for r in rows]):
            existing |= set(conn.execute(sa.select(PROD.c.sku).where(PROD.c.sku.in_(part))).scalars())
        products: list[dict[str, Any]] = []
        idents: dict[str, dict[str, str]] = {}
        matches: list[Match] = []
        seen: set[str] = set()
        for r in rows:
            draft, why = draft_from_listing(
                marketplace_sku=r["marketplace_sku"], title=r["title"], brand=r["brand"], price=r["price"],
                currency=r["currency"], identifiers=r["identifiers"] or {}, parent_sku=r["parent_sku"], options=r["options"],
                source=f"{marketplace} listing",
            )  # fmt: skip
            if draft is not None and (draft.sku in existing or draft.sku in seen):
                why = f"a product with SKU {draft.sku} exists already: link the listing to it instead"
                draft = None
            if draft is None:
                out.skipped.append(
                    {"listing_id": str(r["id"]), "marketplace_sku": r["marketplace_sku"], "reason": why or ""}
                )
                continue
            seen.add(draft.sku)
            products.append({
                "sku": draft.sku, "name": draft.name, "brand": draft.brand, "category": None, "cost": 0, "price": draft.price,
                "min_price": None, "max_price": None, "currency": draft.currency, "attributes": draft.attributes,
                "image_refs": [], "added_at": now, "updated_at": now, "status": "active", "parent_sku": draft.parent_sku,
                "options": draft.options,
            })  # fmt: skip
            idents[draft.sku] = draft.identifiers
            matches.append(Match(r["marketplace_sku"], "linked", draft.sku, "created", new_link=True))
        for i in range(0, len(products), 5000):
            conn.execute(sa.insert(PROD), products[i : i + 5000])
        replace_identifiers(conn, idents)
        repo.apply(conn, account_id=account_id, matches=matches, now=now)
        if matches:
            _bump(conn, account_id)
            conn.execute(sa.insert(AUDIT).values(at=now, actor=actor, action="products_created_from_listings",
                                                 entity_type="marketplace_account", entity_id=str(account_id),
                                                 details={"created": len(products), "skipped": len(out.skipped)}))  # fmt: skip
        out.created = out.linked = len(products)
    return out
