"""The LLM layer's SQL-backed pieces, shared by every worker: the spend counters the cost caps are enforced on, the
draft cache, and the record of every call with its tokens and cost.

- Caps: a call first reserves its worst-case cost with one conditional UPDATE per scope (`spent + amount <= cap +
  extra`), in one transaction for the run and the day, then settles to the real cost. Concurrent calls on any
  number of workers can therefore never together pass a cap; `extra` is what llm_budget decisions added.
- Cache: keyed by (image hash, prompt version, model, inputs digest). The calls a draft cost are recorded in the
  same transaction that caches it, so a retried activity (which then hits the cache) never loses nor repeats them.
"""

from __future__ import annotations

import contextvars
import uuid
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from activities.ingest import repository as repo
from activities.ingest.tables import LlmCacheRow, LlmCallRow, LlmSpend
from connectors.llm.costs import CostCapReached, Reservation
from domain.ingest.draft import DraftResult, LlmCall
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow

SPEND = LlmSpend.__table__  # type: ignore[attr-defined]
# (run id, product id) of the draft being made in this task: the cache records its calls under them
CALL_CONTEXT: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "llm_call_context", default=(None, None)
)


def run_scope(run_id: str) -> str:
    return f"run:{run_id}"


def day_scope(day: date) -> str:
    return f"day:{day.isoformat()}"


class SqlCostLedger:
    def __init__(self, engine: sa.Engine, *, run_cap: Decimal | None, day_cap: Decimal | None) -> None:
        self.engine = engine
        self.run_cap, self.day_cap = run_cap, day_cap

    def _scopes(self, run_id: str | None, day: date) -> list[tuple[str, str, Decimal | None]]:
        scopes = [("run", run_scope(run_id), self.run_cap)] if run_id else []
        return [*scopes, ("day", day_scope(day), self.day_cap)]

    def reserve(self, *, run_id: str | None, day: date, amount: Decimal) -> Reservation:
        now = utcnow()
        with session_scope(self.engine) as s:
            for kind, scope, cap in self._scopes(run_id, day):
                s.execute(
                    repo.insert(s, SPEND)
                    .values(scope=scope, spent=Decimal(0), extra=Decimal(0), updated_at=now)
                    .on_conflict_do_nothing(index_elements=["scope"])
                )
                update = sa.update(SPEND).where(SPEND.c.scope == scope)
                if cap is not None:
                    update = update.where(SPEND.c.spent + amount <= cap + SPEND.c.extra)
                done = s.execute(update.values(spent=SPEND.c.spent + amount, updated_at=now))
                if done.rowcount == 0:  # type: ignore[attr-defined]
                    row = s.get(LlmSpend, scope)
                    spent = row.spent if row else Decimal(0)
                    limit = (cap or Decimal(0)) + (row.extra if row else Decimal(0))
                    raise CostCapReached(kind, spent, limit, amount)  # the transaction rolls back
        return Reservation(id=uuid.uuid4().hex, run_id=run_id, day=day, amount=amount)

    def settle(self, reservation: Reservation, actual: Decimal) -> None:
        delta = actual - reservation.amount
        if delta == 0:
            return
        with session_scope(self.engine) as s:
            for _, scope, _ in self._scopes(reservation.run_id, reservation.day):
                s.execute(
                    sa.update(SPEND)
                    .where(SPEND.c.scope == scope)
                    .values(spent=SPEND.c.spent + delta, updated_at=utcnow())
                )

    def spent(self, *, run_id: str | None = None, day: date | None = None) -> Decimal:
        scope = run_scope(run_id) if run_id is not None else day_scope(day) if day is not None else None
        with session_scope(self.engine) as s:
            if scope is None:
                total = s.execute(
                    sa.select(sa.func.sum(SPEND.c.spent)).where(SPEND.c.scope.like("day:%"))
                ).scalar()
                return Decimal(str(total or 0))
            row = s.get(LlmSpend, scope)
            return Decimal(str(row.spent)) if row else Decimal(0)


def raise_cap(session: Session, *, scope: str, amount: Decimal) -> Decimal:
    """An approved llm_budget decision: the scope's cap goes up by `amount`. Returns the new extra."""
    now = utcnow()
    session.execute(
        repo.insert(session, SPEND)
        .values(scope=scope, spent=Decimal(0), extra=Decimal(0), updated_at=now)
        .on_conflict_do_nothing(index_elements=["scope"])
    )
    session.execute(
        sa.update(SPEND).where(SPEND.c.scope == scope).values(extra=SPEND.c.extra + amount, updated_at=now)
    )
    row = session.get(LlmSpend, scope)
    return Decimal(str(row.extra)) if row else amount


def call_rows(
    calls: list[LlmCall], *, cache_key: str | None, context: tuple[str | None, str | None] | None = None
) -> list[LlmCallRow]:
    run_id, product_id = context or CALL_CONTEXT.get()
    return [
        LlmCallRow(
            run_id=run_id,
            product_id=product_id,
            provider=c.provider,
            model=c.model,
            prompt_version=c.prompt_version,
            purpose=c.purpose,
            outcome=c.outcome,
            input_tokens=c.input_tokens,
            output_tokens=c.output_tokens,
            cost=c.cost,
            latency_s=c.latency_s,
            error=(c.error or None) and (c.error or "")[:1000],
            cache_key=cache_key,
            at=utcnow(),
        )
        for c in calls
    ]


class SqlDraftCache:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> DraftResult | None:
        with session_scope(self.engine) as s:
            row = s.get(LlmCacheRow, key)
            return None if row is None else DraftResult.model_validate(row.result)

    def put(self, key: str, result: DraftResult) -> None:
        with session_scope(self.engine) as s:
            done = s.execute(
                repo.insert(s, LlmCacheRow.__table__)  # type: ignore[attr-defined]
                .values(key=key, result=result.model_dump(mode="json"), created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            if done.rowcount:  # type: ignore[attr-defined]
                s.add_all(call_rows(result.calls, cache_key=key))
