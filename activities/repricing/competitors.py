"""Competitor refresh helpers: which identifiers to ask a marketplace about, storing its answers, and which pages
the scraper should visit (products' `attributes.competitor_urls`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from activities.repricing.tables import CompetitorPrice
from connectors.marketplace.types import CompetitivePrice, ProductIdentifier
from domain.repricing.competitors import KNOWN_CURRENCIES
from merchflow.db.models import MarketplaceListing, Product
from workflows.repricing.contract import RepriceFilter, ScrapeTarget

_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
_C = CompetitorPrice.__table__  # type: ignore[attr-defined]
ID_TYPES = ("upc", "ean", "isbn", "asin", "gtin", "mpn")
SCAN_LIMIT = 20_000  # products read per scrape-target page at most


def identifier_page(
    session: Session, *, account_id: int, filters: RepriceFilter, after_sku: str, limit: int, by_own_sku: bool
) -> tuple[list[ProductIdentifier], list[str]]:
    """Identifiers of the account's listings after the cursor and the SKUs read, in order. `by_own_sku`: the
    marketplace prices our own listing by its SKU (Amazon); otherwise the catalog identifiers (GTIN, ...)."""
    q = (
        sa.select(_L.c.sku, _P.c.attributes)
        .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
        .where(_L.c.account_id == account_id, _L.c.status == "active", _L.c.sku > after_sku)
        .order_by(_L.c.sku)
        .limit(limit)
    )
    if filters.skus:
        q = q.where(_L.c.sku.in_(filters.skus))
    if filters.category:
        q = q.where(_P.c.category == filters.category)
    idents: list[ProductIdentifier] = []
    skus: list[str] = []
    for r in session.execute(q):
        skus.append(r.sku)
        ids: dict[str, Any] = (r.attributes or {}).get("identifiers") or {}
        if by_own_sku:
            idents.append(ProductIdentifier(type="sku", value=r.sku, sku=r.sku))
            continue
        for kind in ID_TYPES:
            if ids.get(kind):
                idents.append(ProductIdentifier(type=kind, value=str(ids[kind]), sku=r.sku))  # type: ignore[arg-type]
    return idents, skus


def fresh_skus(session: Session, skus: Sequence[str], *, source_prefix: str, since: datetime) -> set[str]:
    if not skus:
        return set()
    q = sa.select(_C.c.sku).where(
        _C.c.sku.in_(list(skus)), _C.c.source.like(f"{source_prefix}%"), _C.c.fetched_at >= since
    )
    return {r[0] for r in session.execute(q)}


def store_market_prices(session: Session, prices: Sequence[CompetitivePrice], *, now: datetime) -> int:
    """Other sellers' offers only (our own offer is not a competitor), one row per SKU, source and seller."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for p in prices:
        sku = p.identifier.sku
        if not sku or p.seller == "self" or p.price <= 0 or p.currency not in KNOWN_CURRENCIES:
            continue
        key = (sku, p.source[:64], p.seller or "")
        if key in rows and rows[key]["price"] <= p.price:
            continue
        rows[key] = {
            "sku": sku,
            "source": p.source[:64],
            "url": None,
            "competitor": (p.seller or None) and p.seller[:200],
            "price": p.price,
            "shipping": p.shipping,
            "currency": p.currency,
            "matched_by": p.identifier.type,
            "fetched_at": now,
        }
    if rows:
        session.execute(sa.insert(_C), list(rows.values()))
    return len(rows)


def scrape_targets(
    session: Session, *, filters: RepriceFilter, after_sku: str, limit: int
) -> tuple[list[ScrapeTarget], str | None, bool]:
    """Pages to scrape for products after the cursor, at most `limit` targets; (targets, last SKU read, done)."""
    q = (
        sa.select(_P.c.sku, _P.c.attributes)
        .where(_P.c.sku > after_sku, sa.cast(_P.c.attributes, sa.Text).like('%"competitor_urls"%'))
        .order_by(_P.c.sku)
        .limit(SCAN_LIMIT)
    )
    if filters.skus:
        q = q.where(_P.c.sku.in_(filters.skus))
    if filters.category:
        q = q.where(_P.c.category == filters.category)
    out: list[ScrapeTarget] = []
    last: str | None = None
    rows = session.execute(q).all()
    for r in rows:
        urls = (r.attributes or {}).get("competitor_urls") or []
        if isinstance(urls, str):
            urls = [urls]
        if out and len(out) + len(urls) > limit:
            return out, last, False
        out += [ScrapeTarget(sku=r.sku, url=str(u)) for u in urls[:limit] if str(u).startswith("http")]
        last = r.sku
    return out, last, len(rows) < SCAN_LIMIT
