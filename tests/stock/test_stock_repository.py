"""Master stock under concurrency, on SQLite and PostgreSQL: the last unit is sold exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from activities.stock.repository import (
    LineIn,
    apply_adjustment,
    mark_published,
    publish_targets,
    record_order,
)
from activities.stock.tables import StockLedgerEntry
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, StockLevel


def seed(engine: sa.Engine, sku: str = "LAST-1", on_hand: int = 1) -> list[int]:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(Product(sku=sku, name="n", cost=Decimal(1), added_at=now, updated_at=now))
        s.add(StockLevel(sku=sku, on_hand=on_hand, reserved=0, version=1, updated_at=now))
        accounts = [MarketplaceAccount(marketplace=m, name="t") for m in ("amazon", "ebay", "shopify")]
        s.add_all(accounts)
        s.flush()
        for a in accounts:
            s.add(MarketplaceListing(account_id=a.id or 0, sku=sku, quantity=on_hand, status="active"))
        return [a.id or 0 for a in accounts]


def test_three_marketplaces_race_for_the_last_unit(engine: sa.Engine) -> None:
    accounts = seed(engine)
    barrier = threading.Barrier(3)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def buy(account_id: int) -> None:
        try:
            barrier.wait()
            with session_scope(engine) as s:
                r = record_order(
                    s,
                    account_id=account_id,
                    marketplace="m",
                    order_id=f"o-{account_id}",
                    lines=[LineIn("LAST-1", 1)],
                    policy="cancel",
                )
            results[account_id] = r.status
        except BaseException as exc:  # surface thread failures in the test
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(a,)) for a in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(results.values()) == ["allocated", "cancelled", "cancelled"]
    with Session(engine) as s:
        level = s.get(StockLevel, "LAST-1")
        assert level is not None and level.on_hand == 0
        sales = s.exec(
            select(func.count()).select_from(StockLedgerEntry).where(StockLedgerEntry.kind == "sale")
        ).one()
        assert sales == 1


def test_duplicate_order_is_recorded_once(engine: sa.Engine) -> None:
    accounts = seed(engine, on_hand=5)
    for _ in range(3):
        with session_scope(engine) as s:
            r = record_order(
                s, account_id=accounts[0], marketplace="amazon", order_id="A-1", lines=[LineIn("LAST-1", 2)]
            )
    assert r.duplicate and r.status == "allocated"
    with Session(engine) as s:
        assert s.get(StockLevel, "LAST-1").on_hand == 3  # type: ignore[union-attr]


def test_backorder_policy_keeps_stock_non_negative(engine: sa.Engine) -> None:
    accounts = seed(engine, on_hand=1)
    with session_scope(engine) as s:
        r = record_order(
            s,
            account_id=accounts[1],
            marketplace="ebay",
            order_id="B-1",
            lines=[LineIn("LAST-1", 3)],
            policy="backorder",
        )
    assert r.status == "backordered" and r.short[0]["shortage"] == 2
    with Session(engine) as s:
        assert s.get(StockLevel, "LAST-1").on_hand == 1  # type: ignore[union-attr]


def test_adjustments_are_idempotent_and_never_negative(engine: sa.Engine) -> None:
    seed(engine, on_hand=2)
    with session_scope(engine) as s:
        level, applied = apply_adjustment(
            s, sku="LAST-1", kind="receipt", quantity=10, reason="PO 7", idempotency_key="po-7"
        )
    assert applied and level.on_hand == 12
    with session_scope(engine) as s:
        level, applied = apply_adjustment(
            s, sku="LAST-1", kind="receipt", quantity=10, reason="PO 7", idempotency_key="po-7"
        )
    assert not applied and level.on_hand == 12
    with pytest.raises(ValueError, match="never goes negative"), session_scope(engine) as s:
        apply_adjustment(
            s, sku="LAST-1", kind="adjustment", quantity=-13, reason="count", idempotency_key="cnt-1"
        )
    with Session(engine) as s:
        assert s.get(StockLevel, "LAST-1").on_hand == 12  # type: ignore[union-attr]


def test_publish_targets_and_stale_versions(engine: sa.Engine) -> None:
    accounts = seed(engine, on_hand=7)
    with session_scope(engine) as s:
        s.exec(select(MarketplaceAccount).where(MarketplaceAccount.id == accounts[2])).one().safety_buffer = 2
    with Session(engine) as s:
        targets = {t.account_id: t for t in publish_targets(s, ["LAST-1"], exclude_account_id=accounts[0])}
    assert set(targets) == set(accounts[1:])
    assert targets[accounts[1]].quantity == 7 and targets[accounts[2]].quantity == 5
    with session_scope(engine) as s:
        assert mark_published(s, account_id=accounts[1], rows=[("LAST-1", 6, 5)]) == 1
        assert mark_published(s, account_id=accounts[1], rows=[("LAST-1", 9, 4)]) == 0  # stale: dropped
    with Session(engine) as s:
        listing = s.exec(select(MarketplaceListing).where(MarketplaceListing.account_id == accounts[1])).one()
    assert (listing.quantity, listing.published_version) == (6, 5)


def test_order_for_a_sku_the_master_does_not_manage_is_recorded_not_cancelled(engine: sa.Engine) -> None:
    accounts = seed(engine, on_hand=3)
    with session_scope(engine) as s:
        r = record_order(
            s, account_id=accounts[0], marketplace="amazon", order_id="U-1", lines=[LineIn("NOT-OURS", 1)]
        )
    assert (r.status, r.allocated, r.short) == ("unmanaged", [], [])
    with session_scope(engine) as s:
        mixed = record_order(
            s,
            account_id=accounts[0],
            marketplace="amazon",
            order_id="U-2",
            lines=[LineIn("NOT-OURS", 1), LineIn("LAST-1", 2)],
            policy="cancel",
        )
    assert (mixed.status, mixed.allocated) == ("allocated", ["LAST-1"])
    with Session(engine) as s:
        assert s.get(StockLevel, "LAST-1").on_hand == 1  # type: ignore[union-attr]
        assert s.get(StockLevel, "NOT-OURS") is None
