"""Migration 0003 creates exactly what the table classes describe, on SQLite and PostgreSQL, and goes back."""

from __future__ import annotations

import sqlalchemy as sa

from merchflow.db.all_tables import metadata
from merchflow.db.migrate import downgrade, upgrade

TABLES = (
    "decision_policy",
    "decision_event",
    "decision_action",
    "decision_outcome",
    "notification_outbox",
    "decision_link_use",
    "decision_bulk_result",
)


def _shape(insp: sa.Inspector, table: str) -> tuple[set[tuple[str, bool]], set[str], set[tuple[str, ...]]]:
    cols = {(c["name"], bool(c["nullable"])) for c in insp.get_columns(table)}
    indexes = {
        i["name"]
        for i in insp.get_indexes(table)
        # PostgreSQL also lists the index behind each unique constraint
        if i["name"] and not i["name"].startswith("sqlite_") and not i.get("duplicates_constraint")
    }
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
    return cols, indexes, uniques


def test_migration_matches_the_models(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    for name in TABLES:
        table = metadata.tables[name]
        cols, indexes, uniques = _shape(insp, name)
        assert cols == {(c.name, bool(c.nullable)) for c in table.columns}, name
        assert indexes == {i.name for i in table.indexes}, name
        model_uniques = {
            tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)
        }
        model_uniques |= {(c.name,) for c in table.columns if c.unique}
        assert uniques == model_uniques, name


def test_downgrade_removes_the_tables_and_upgrade_restores_them(db_url: str) -> None:
    downgrade(db_url, "0002")
    eng = sa.create_engine(db_url)
    try:
        assert not set(TABLES) & set(sa.inspect(eng).get_table_names())
        upgrade(db_url)
        assert set(TABLES) <= set(sa.inspect(eng).get_table_names())
    finally:
        eng.dispose()
