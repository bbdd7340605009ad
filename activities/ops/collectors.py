"""Metrics read from the database at scrape time: decisions waiting for a person, by type and age.

Registered by the API process only (one reader of the truth; workers would report the same numbers again).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from activities.decisions.tables import Decision
from merchflow.db.types import utcnow
from merchflow.logging import get_logger

log = get_logger(__name__)

# age bands an operator can act on: fresh, waiting today, overdue
AGE_BANDS: tuple[tuple[str, timedelta | None], ...] = (
    ("lt_1h", timedelta(hours=1)),
    ("1h_24h", timedelta(hours=24)),
    ("gt_24h", None),
)


def age_band(age: timedelta) -> str:
    for name, upper in AGE_BANDS:
        if upper is None or age < upper:
            return name
    return AGE_BANDS[-1][0]


class DecisionsPendingCollector(Collector):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # read at collect time only: registration must not touch the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "merchflow_decisions_pending",
            "Decisions waiting for a person, by decision type and age band",
            labels=["decision_type", "age"],
        )
        oldest = GaugeMetricFamily(
            "merchflow_decisions_pending_oldest_seconds",
            "Age of the oldest pending decision, by decision type",
            labels=["decision_type"],
        )
        try:
            rows = self._read()
        except sa.exc.SQLAlchemyError as exc:  # a scrape must never fail because the database is busy
            log.warning("decisions pending not readable", error=str(exc))
            return
        now = utcnow()
        counts: dict[tuple[str, str], int] = {}
        first: dict[str, datetime] = {}
        for decision_type, created_at, n in rows:
            band = age_band(now - created_at)
            counts[(decision_type, band)] = counts.get((decision_type, band), 0) + n
            first[decision_type] = min(first.get(decision_type, created_at), created_at)
        for decision_type in sorted(first):
            for band, _ in AGE_BANDS:
                pending.add_metric([decision_type, band], counts.get((decision_type, band), 0))
            oldest.add_metric([decision_type], (now - first[decision_type]).total_seconds())
        yield pending
        yield oldest

    def _read(self) -> list[tuple[str, datetime, int]]:
        # grouped by hour so a large queue is a few hundred rows, not one per decision
        created = Decision.__table__.c.created_at  # type: ignore[attr-defined]
        kind = Decision.__table__.c.decision_type  # type: ignore[attr-defined]
        status = Decision.__table__.c.status  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(kind, sa.func.min(created), sa.func.count())
                .where(status == "pending")
                .group_by(kind, _hour(conn, created))
            ).all()
        return [(r[0], _aware(r[1]), int(r[2])) for r in rows]


def _hour(conn: sa.Connection, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[object]:
    if conn.dialect.name == "postgresql":
        return sa.func.date_trunc("hour", column)
    return sa.func.strftime("%Y-%m-%d %H", column)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates return the stored text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
