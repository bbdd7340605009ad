"""An account test: every capability probed with the cheapest authenticated call, reported in plain words, and the
account's status set from what the marketplace said (refused -> needs re-auth; all usable again -> connected)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from activities.accounts.health import AccountHealth
from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.probes import probe
from domain.accounts.rules import AccountTestReport, refused_anywhere, summarise
from merchflow.db.models import MarketplaceAccount
from merchflow.db.types import utcnow

_A = MarketplaceAccount.__table__  # type: ignore[attr-defined]


def _head(engine: sa.Engine, account_id: int) -> sa.RowMapping:
    with engine.execution_options(readonly=True).connect() as conn:
        row = (
            conn.execute(sa.select(_A.c.marketplace, _A.c.name, _A.c.status).where(_A.c.id == account_id))
            .mappings()
            .first()
        )
    if row is None or row["status"] == "removed":
        raise KeyError(f"no marketplace account {account_id}")
    return row


def _reconnected(engine: sa.Engine, account_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(_A)
            .where(_A.c.id == account_id, _A.c.status == "needs_reauth")
            .values(status="connected", status_reason=None, last_success_at=utcnow())
        )


async def run_test(
    registry: MarketplaceRegistry, health: AccountHealth, account_id: int
) -> AccountTestReport:
    head = await asyncio.to_thread(_head, registry.engine, account_id)
    try:
        adapter = registry.fresh(account_id)
    except KeyError as exc:  # a credential the adapter cannot start without
        report = AccountTestReport(
            account_id=account_id, marketplace=head["marketplace"], name=head["name"], ok=False
        )
        report.summary = f"The account cannot be used: {exc}"
        return report
    try:
        results = await probe(adapter)
    finally:
        await adapter.aclose()
    ok, summary = summarise(results)
    if refused_anywhere(results):
        reason = next(r.detail for r in results if r.outcome == "refused")
        await asyncio.to_thread(health.refused, account_id, reason)
    elif ok and head["status"] == "needs_reauth":
        await asyncio.to_thread(_reconnected, registry.engine, account_id)
    return AccountTestReport(
        account_id=account_id,
        marketplace=head["marketplace"],
        name=head["name"],
        ok=ok,
        results=results,
        summary=summary,
    )
