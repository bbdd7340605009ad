"""The demo seed gives every sandbox account what the adapters need and an active listing of every demo product,
idempotently, without overwriting what an operator changed."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, StockLevel
from merchflow.seed import DEMO_ACCOUNT_OPTIONS, DEMO_MARKETPLACES, DEMO_PRODUCTS, seed_demo


def _listings(engine: sa.Engine) -> dict[tuple[str, str], MarketplaceListing]:
    with session_scope(engine) as s:
        accounts = {a.id: a.marketplace for a in s.exec(select(MarketplaceAccount)).all()}
        rows = s.exec(select(MarketplaceListing)).all()
        s.expunge_all()
    return {(accounts[r.account_id], r.sku): r for r in rows}


def test_demo_listings_mirror_the_master_and_seeding_twice_changes_nothing(sqlite_engine: sa.Engine) -> None:
    seed_demo(sqlite_engine)
    first = _listings(sqlite_engine)
    assert set(first) == {(mp, p[0]) for mp in DEMO_MARKETPLACES for p in DEMO_PRODUCTS}
    for sku, _name, _brand, _cat, _cost, price, on_hand, _ids in DEMO_PRODUCTS:
        for mp in DEMO_MARKETPLACES:
            row = first[(mp, sku)]
            assert (row.status, row.quantity, row.price) == ("active", on_hand, Decimal(price))
    with session_scope(sqlite_engine) as s:  # stock moves on; a second seed must not touch the listings
        level = s.get(StockLevel, "DEMO-MUG-02")
        assert level is not None
        level.on_hand -= 5
    assert seed_demo(sqlite_engine) == 0
    again = _listings(sqlite_engine)
    assert {k: (r.id, r.quantity) for k, r in again.items()} == {
        k: (r.id, r.quantity) for k, r in first.items()
    }


def test_demo_accounts_get_missing_options_and_keep_the_operators(sqlite_engine: sa.Engine) -> None:
    with session_scope(sqlite_engine) as s:  # a demo account from before the options existed, tuned by hand
        s.add(
            MarketplaceAccount(
                marketplace="ebay",
                name="sandbox",
                credentials_ref="sandbox-ebay",
                config={"category_id": "11450"},
            )
        )
    seed_demo(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        configs = {a.marketplace: a.config for a in s.exec(select(MarketplaceAccount)).all()}
    assert configs["ebay"] == {**DEMO_ACCOUNT_OPTIONS["ebay"], "category_id": "11450"}
    assert {mp: configs[mp] for mp in ("amazon", "shopify", "woocommerce")} == {
        mp: DEMO_ACCOUNT_OPTIONS[mp] for mp in ("amazon", "shopify", "woocommerce")
    }


def test_no_sandbox_accounts_when_the_sandboxes_are_off(sqlite_engine: sa.Engine) -> None:
    assert seed_demo(sqlite_engine, sandbox_accounts=False) == len(DEMO_PRODUCTS)
    with session_scope(sqlite_engine) as s:
        assert s.exec(select(MarketplaceAccount)).all() == []
        assert s.exec(select(MarketplaceListing)).all() == []
