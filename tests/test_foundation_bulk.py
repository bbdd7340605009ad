"""merchflow.db.bulk.execute_many writes exactly what `session.execute(stmt, rows)` writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from activities.repricing.tables import RepriceProposal, RepriceRun
from merchflow.db.bulk import execute_many
from merchflow.db.engine import session_scope
from merchflow.db.models import AuditLog, MarketplaceAccount, MarketplaceListing, Product

_A = AuditLog.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_R = RepriceProposal.__table__  # type: ignore[attr-defined]


def _raw(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the driver returns them (no result processing), so storage formats are compared too."""
    with engine.connect() as c:
        return [tuple(r) for r in c.exec_driver_sql(sql)]


def _audit_rows(prefix: str) -> list[dict[str, Any]]:
    shared = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)  # no microseconds: SQLite's format must still match
    return [
        {"at": shared if i % 2 else datetime(2026, 5, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
         "actor": "system", "action": "executed", "entity_type": "decision", "entity_id": f"{prefix}-{i}",
         "details": {"n": i, "note": "prix réduit ≥ 5 %", "nested": {"ok": True, "none": None}}}
        for i in range(5)
    ]  # fmt: skip


def test_inserts_store_the_same_values_as_sqlalchemy(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        s.execute(sa.insert(_A), _audit_rows("orm"))
        execute_many(s, sa.insert(_A), _audit_rows("bulk"))
        products = [
            {"sku": f"{p}-{i}", "name": "n", "category": None, "cost": Decimal("0.1") + Decimal(i),
             "price": Decimal("19.9900"), "currency": "USD", "attributes": {"i": i}, "image_refs": [],
             "added_at": datetime(2026, 1, 1, tzinfo=UTC), "updated_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)}
            for p in ("orm", "bulk") for i in range(3)
        ]  # fmt: skip
        s.execute(sa.insert(_P), products[:3])
        execute_many(s, sa.insert(_P), products[3:])

    audit = _raw(engine, "SELECT entity_id, at, actor, action, details FROM audit_log ORDER BY id")
    by_kind = {p: [r[1:] for r in audit if r[0].startswith(p)] for p in ("orm", "bulk")}
    assert len(by_kind["bulk"]) == 5 and by_kind["bulk"] == by_kind["orm"]
    rows = _raw(engine, "SELECT sku, cost, price, attributes, added_at, updated_at FROM product ORDER BY sku")
    orm = [r[1:] for r in rows if r[0].startswith("orm")]
    assert len(orm) == 3 and [r[1:] for r in rows if r[0].startswith("bulk")] == orm
    with engine.connect() as c:
        back = c.execute(sa.select(_A.c.at, _A.c.details).where(_A.c.entity_id == "bulk-0")).one()
    assert back.at == datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert back.details["note"] == "prix réduit ≥ 5 %"


def test_updates_with_parameters_and_constants(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        s.add(MarketplaceAccount(id=7, marketplace="ebay", name="a", credentials_ref="x"))
        s.add(MarketplaceAccount(id=8, marketplace="ebay", name="b", credentials_ref="x"))
        s.flush()
        s.execute(sa.insert(_P), [
            {"sku": f"S{i}", "name": "n", "cost": Decimal(1), "price": Decimal(2), "currency": "USD", "attributes": {},
             "image_refs": [], "added_at": datetime.now(UTC), "updated_at": datetime.now(UTC)} for i in range(4)
        ])  # fmt: skip
        s.execute(sa.insert(_L), [
            {"account_id": a, "sku": f"S{i}", "price": Decimal(2), "target_price": Decimal("2.5"), "quantity": 1,
             "status": "active", "published_version": 1}
            for a in (7, 8) for i in range(4)
        ])  # fmt: skip
    synced = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        execute_many(
            s,
            sa.update(_L)
            .where(_L.c.account_id == 7, _L.c.sku == sa.bindparam("b_sku"))
            .where(_L.c.target_price == sa.bindparam("b_price"))  # the same parameter twice
            .values(price=sa.bindparam("b_price"), target_price=None, last_synced_at=synced),
            [{"b_sku": "S0", "b_price": Decimal("2.5")}, {"b_sku": "S1", "b_price": Decimal("2.5")},
             {"b_sku": "S2", "b_price": Decimal("9.99")}],  # guarded: not the target any more, left alone
        )  # fmt: skip
    with engine.connect() as c:
        got = {
            (r.account_id, r.sku): (r.price, r.target_price, r.last_synced_at)
            for r in c.execute(sa.select(_L).order_by(_L.c.account_id, _L.c.sku))
        }
    assert got[(7, "S0")] == got[(7, "S1")] == (Decimal("2.5"), None, synced)
    assert got[(7, "S2")] == got[(7, "S3")] == got[(8, "S0")] == (Decimal(2), Decimal("2.5"), None)


def test_python_side_defaults_fall_back_to_sqlalchemy(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        s.add(MarketplaceAccount(id=1, marketplace="ebay", name="a", credentials_ref="x"))
        s.add(RepriceRun(id="r1"))
        s.flush()
        # status, change_pct, ... have Python-side defaults the driver cannot know: SQLAlchemy fills them in
        # (reasoning has none at the Core level: its Field default does not reach the sa_column)
        rows = [{"run_id": "r1", "account_id": 1, "sku": f"K{i}", "current_price": Decimal(1), "suggested_price": Decimal(2),
                 "reasoning": ""}
                for i in range(3)]  # fmt: skip
        execute_many(s, sa.insert(_R), rows)
    with engine.connect() as c:
        rows = c.execute(sa.select(_R.c.status, _R.c.expected_units_factor)).all()
    assert [tuple(r) for r in rows] == [("proposed", 1.0)] * 3


def test_values_still_go_through_their_types(engine: sa.Engine) -> None:
    row = {"at": datetime(2026, 1, 1), "actor": "a", "action": "x", "entity_type": "t", "entity_id": "1",
           "details": {}}  # fmt: skip
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session_scope(engine) as s:
        execute_many(s, sa.insert(_A), [row])
