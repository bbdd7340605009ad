"""Reading one batch of an account's listings with every fact the pricing engine needs, as one DataFrame.

Plain column reads in a handful of set-based queries per batch (listings + product + stock, receipts, fresh
competitor prices, recent sales), never a query per SKU.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from activities.repricing.tables import CompetitorPrice, DemandModelRow
from activities.stock.tables import StockLedgerEntry
from merchflow.db.models import MarketplaceListing, Product, StockLevel
from workflows.repricing.contract import FeeRates, RepriceFilter

_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
_S = StockLevel.__table__  # type: ignore[attr-defined]
_C = CompetitorPrice.__table__  # type: ignore[attr-defined]
_G = StockLedgerEntry.__table__  # type: ignore[attr-defined]
_M = DemandModelRow.__table__  # type: ignore[attr-defined]
IN_CHUNK = 5000  # well under SQLite's bound-parameter limit


def _chunks(items: Sequence[str]) -> list[list[str]]:
    return [list(items[i : i + IN_CHUNK]) for i in range(0, len(items), IN_CHUNK)]


def listing_query(
    account_id: int, filters: RepriceFilter, after_sku: str, limit: int | None
) -> sa.Select[Any]:
    """Active listings of the account after the cursor, in SKU order, joined with the catalog and stock."""
    q = (
        sa.select(
            _L.c.sku,
            _L.c.price.label("listing_price"),
            _P.c.price.label("product_price"),
            _P.c.cost,
            _P.c.category,
            _P.c.currency,
            _P.c.min_price,
            _P.c.max_price,
            _P.c.added_at,
            _S.c.on_hand,
            _S.c.reserved,
        )
        .select_from(_L.join(_P, _P.c.sku == _L.c.sku).outerjoin(_S, _S.c.sku == _L.c.sku))
        .where(_L.c.account_id == account_id, _L.c.status == "active", _L.c.sku > after_sku)
        # a listing excluded from price automation gets no proposal (issue 11), nor an archived product
        .where(_L.c.price_automation.is_(True), _P.c.status == "active")
        .order_by(_L.c.sku)
    )
    if filters.skus:
        q = q.where(_L.c.sku.in_(filters.skus))
    if filters.category:
        q = q.where(_P.c.category == filters.category)
    return q.limit(limit) if limit else q


def inventory_age_days(
    receipts: pd.DataFrame, on_hand: pd.Series, fallback: pd.Series, now: datetime
) -> pd.Series:
    """Age of the oldest unit still in stock, FIFO: walk receipts newest first until they cover what is on hand.
    `receipts`: sku, quantity, created_at; `on_hand` / `fallback` (a first-seen timestamp) are indexed by SKU."""
    age = (now - fallback).dt.total_seconds() / 86400.0
    if receipts.empty:
        return age.clip(lower=0)
    r = receipts.sort_values(["sku", "created_at"], ascending=[True, False]).copy()
    r["covered"] = r.groupby("sku")["quantity"].cumsum()
    r["need"] = r["sku"].map(on_hand).fillna(0)
    # first receipt (newest first) whose running total covers the stock; else the oldest receipt known
    hit = r[r["covered"] >= r["need"]].groupby("sku")["created_at"].first()
    oldest = r.groupby("sku")["created_at"].last()
    when = hit.reindex(oldest.index).fillna(oldest)
    receipt_age = (now - when).dt.total_seconds() / 86400.0
    return receipt_age.reindex(age.index).fillna(age).clip(lower=0)


def active_model(session: Session) -> dict[str, Any] | None:
    row = session.execute(
        sa.select(_M.c.id, _M.c.elasticity, _M.c.confidence)
        .where(_M.c.active.is_(True))
        .order_by(_M.c.trained_at.desc(), _M.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else {"id": row.id, "elasticity": row.elasticity, "confidence": row.confidence}


def load_batch(
    session: Session,
    *,
    account_id: int,
    marketplace: str,
    filters: RepriceFilter,
    after_sku: str,
    limit: int,
    fees: FeeRates,
    now: datetime,
    competitor_max_age: timedelta,
    run_rate_days: int,
    model: dict[str, Any] | None,
) -> pd.DataFrame:
    """One row per listing read (in SKU order): the engine's input columns, `run_rate` (units / day sold on this
    marketplace) and `usable` (False: no price or cost to work from; skipped, but the cursor moves past it)."""
    result = session.execute(listing_query(account_id, filters, after_sku, limit))
    df = pd.DataFrame(result.all(), columns=list(result.keys()))
    if df.empty:
        return df
    skus = df["sku"].tolist()
    df = df.set_index("sku", drop=False)
    num = ("listing_price", "product_price", "cost", "min_price", "max_price")
    for col in num:
        df[col] = pd.to_numeric(df[col].map(lambda v: None if v is None else float(v)), errors="coerce")
    df["price"] = df["listing_price"].fillna(df["product_price"])
    df["reference_price"] = df["product_price"]
    df["stock"] = (df["on_hand"].fillna(0) - df["reserved"].fillna(0)).clip(lower=0).astype(float)
    df["category"] = df["category"].fillna("").astype(str)

    receipts: list[Any] = []
    comp: list[Any] = []
    sales: list[Any] = []
    since_comp, since_sales = now - competitor_max_age, now - timedelta(days=run_rate_days)
    for part in _chunks(skus):
        receipts += session.execute(
            sa.select(_G.c.sku, _G.c.quantity, _G.c.created_at).where(
                _G.c.sku.in_(part), _G.c.kind == "receipt", _G.c.quantity > 0
            )
        ).all()
        comp += session.execute(
            sa.select(
                _C.c.sku,
                _C.c.currency,
                sa.func.min(_C.c.price + sa.func.coalesce(_C.c.shipping, 0)).label("lo"),
                sa.func.max(_C.c.price + sa.func.coalesce(_C.c.shipping, 0)).label("hi"),
            )
            .where(_C.c.sku.in_(part), _C.c.fetched_at >= since_comp)
            .group_by(_C.c.sku, _C.c.currency)
        ).all()
        sales += session.execute(
            sa.select(_G.c.sku, sa.func.sum(-_G.c.quantity).label("units"))
            .where(
                _G.c.sku.in_(part),
                _G.c.kind == "sale",
                _G.c.created_at >= since_sales,
                _G.c.source_marketplace == marketplace,
            )
            .group_by(_G.c.sku)
        ).all()

    rec = pd.DataFrame(receipts, columns=["sku", "quantity", "created_at"])
    if not rec.empty:
        rec["created_at"] = pd.to_datetime(rec["created_at"], utc=True)
    added = pd.to_datetime(df["added_at"], utc=True)
    df["age_days"] = inventory_age_days(rec, df["on_hand"].fillna(0), added, pd.Timestamp(now)).to_numpy()

    cp = pd.DataFrame(comp, columns=["sku", "currency", "lo", "hi"])
    cp = cp[cp["currency"].to_numpy() == df["currency"].reindex(cp["sku"]).to_numpy()] if not cp.empty else cp
    df["competitor_min"] = (
        cp.set_index("sku")["lo"].astype(float).reindex(df.index) if not cp.empty else np.nan
    )
    df["competitor_max"] = (
        cp.set_index("sku")["hi"].astype(float).reindex(df.index) if not cp.empty else np.nan
    )

    sold = pd.DataFrame(sales, columns=["sku", "units"]).set_index("sku")["units"].astype(float)
    df["run_rate"] = sold.reindex(df.index).fillna(0.0).to_numpy() / float(run_rate_days)

    default = fees.by_category.get("")
    rate = {k: v.rate for k, v in fees.by_category.items()}
    fixed = {k: v.fixed for k, v in fees.by_category.items()}
    df["fee_rate"] = df["category"].map(rate).fillna(default.rate if default else 0.0).astype(float)
    df["fee_fixed"] = df["category"].map(fixed).fillna(default.fixed if default else 0.0).astype(float)

    if model:
        df["elasticity"] = df["category"].map(model["elasticity"]).astype(float)
        df["model_confidence"] = df["category"].map(model["confidence"]).fillna(0.0).astype(float)
    df["usable"] = (df["price"] > 0) & df["cost"].notna()
    return df.reset_index(drop=True)
