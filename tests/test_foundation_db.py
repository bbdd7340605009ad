"""Migrations, tables and money/time types on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from activities.stock.tables import StockLedgerEntry
from merchflow.db.engine import session_scope
from merchflow.db.migrate import downgrade, upgrade
from merchflow.db.models import Product
from merchflow.seed import DEMO_PRODUCTS, seed_demo


def test_money_stays_exact_and_timestamps_stay_aware(engine: sa.Engine) -> None:
    added = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with session_scope(engine) as s:
        s.add(
            Product(
                sku="A-1",
                name="n",
                cost=Decimal("0.1") + Decimal("0.2"),
                price=Decimal("19.9900"),
                added_at=added,
                updated_at=added,
            )
        )
    with session_scope(engine) as s:
        p = s.exec(select(Product).where(Product.sku == "A-1")).one()
    assert p.cost == Decimal("0.3")
    assert p.price == Decimal("19.99")
    assert p.added_at.tzinfo is not None
    assert p.added_at == added  # same instant
    assert p.added_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session_scope(engine) as s:
        s.add(Product(sku="A-2", name="n", cost=Decimal(1), added_at=datetime(2026, 1, 1)))


def test_sku_is_unique(engine: sa.Engine) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(Product(sku="DUP", name="a", cost=Decimal(1), added_at=now, updated_at=now))
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as s:
        s.add(Product(sku="DUP", name="b", cost=Decimal(1), added_at=now, updated_at=now))


def test_seed_demo_is_idempotent(engine: sa.Engine) -> None:
    assert seed_demo(engine) == len(DEMO_PRODUCTS)
    assert seed_demo(engine) == 0
    with session_scope(engine) as s:
        assert len(s.exec(select(Product)).all()) == len(DEMO_PRODUCTS)
        assert len(s.exec(select(StockLedgerEntry)).all()) == len(DEMO_PRODUCTS)


def test_migrations_downgrade_and_upgrade_again(db_url: str) -> None:
    downgrade(db_url, "base")
    eng = sa.create_engine(db_url)
    assert "product" not in sa.inspect(eng).get_table_names()
    upgrade(db_url)
    assert {"product", "stock_ledger", "decision", "api_token"} <= set(sa.inspect(eng).get_table_names())
    eng.dispose()
