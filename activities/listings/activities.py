"""Listing-sync activities: read a batch of listings from the marketplace (pages of `list_catalog`, heartbeating),
stage them, match them to master products and write the links, in one transaction per batch; then close the run.

A batch that is retried reads the same pages again from the batch's cursor and writes the same rows: everything it
writes is an upsert keyed by (account, marketplace SKU) or (account, product). The run's report is counted from the
stored rows at the end, so it is exact however often batches were retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from activities.common.errors import to_application_error
from activities.common.heartbeats import heartbeat
from activities.listings import repository as repo
from activities.listings import runs
from connectors.errors import ConnectorError
from connectors.marketplace.accounts import MarketplaceRegistry
from connectors.marketplace.types import ListingSnapshot
from domain.listings.matching import ListingFacts, Match, colliding_links, match_batch, report_of
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.listings.contract import (
    SYNC_WORKFLOW,
    FinishRunInput,
    FinishRunResult,
    ListingSyncInput,
    StartRunInput,
    StartRunResult,
    SyncAllInput,
    SyncAllResult,
    SyncBatchInput,
    SyncBatchResult,
    sync_workflow_id,
)

log = get_logger(__name__)
LINK_CHUNK = 500  # listings linked together while the next pages are read


def link_batch(engine: sa.Engine, account_id: int, run_id: str, items: list[ListingSnapshot]) -> list[Match]:
    """Stage, match and link one batch in one transaction (also what the benchmark's floor does)."""
    now = utcnow()
    with engine.begin() as conn:
        repo.stage(conn, account_id=account_id, run_id=run_id, items=items, now=now)
        listings = repo.facts(
            conn, account_id=account_id, mskus=list(dict.fromkeys(i.sku[:200] for i in items))
        )
        matches = match_batch(listings, repo.master_view(conn, account_id=account_id, listings=listings))
        repo.apply(conn, account_id=account_id, matches=matches, now=now)
    return matches


@dataclass
class BatchRead:
    cursor: str | None
    pages: int
    listings: int
    matches: list[Match]


async def read_and_link(
    adapter: Any, engine: sa.Engine, account_id: int, run_id: str, *, cursor: str | None, first: bool, limit: int,
    on_page: Callable[[int, str | None], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> BatchRead:  # fmt: skip
    """Pages of `list_catalog` until `limit` listings (or the end), linking them in chunks while reading goes on:
    the marketplace's rate limit is the bound, and it is wasted while a batch is matched and written. Chunks are
    linked one after another, in order (each sees the links the one before wrote). Also what the benchmark's floor runs."""
    chunks: list[asyncio.Task[list[Match]]] = []
    pending: list[ListingSnapshot] = []
    count = pages = 0

    def link(chunk: list[ListingSnapshot]) -> None:
        before = chunks[-1] if chunks else None

        async def run() -> list[Match]:
            if before is not None:
                await before
            return await asyncio.to_thread(link_batch, engine, account_id, run_id, chunk)

        chunks.append(asyncio.create_task(run()))

    try:
        while first or cursor is not None:
            first = False
            page = await adapter.list_catalog(cursor, on_wait=on_wait)
            pending += page.items
            count, cursor, pages = count + len(page.items), page.next_cursor, pages + 1
            if on_page is not None:
                on_page(count, cursor)
            if len(pending) >= LINK_CHUNK:
                link(pending)
                pending = []
            if count >= limit:
                break
        if pending:
            link(pending)
        done = [m for ms in await asyncio.gather(*chunks) for m in ms]
    except BaseException:
        for task in chunks:  # a chunk already in its thread finishes; none that waits starts
            task.cancel()
        await asyncio.gather(*chunks, return_exceptions=True)
        raise
    return BatchRead(cursor, pages, count, done)


def settle_collisions(engine: sa.Engine, account_id: int) -> int:
    """An identifier link to a product whose SKU another listing of the account carries loses to that listing."""
    with engine.begin() as conn:
        links = runs.identifier_links(conn, account_id=account_id)
        present = runs.present_skus(conn, account_id=account_id, skus=sorted(set(links.values())))
        losers = colliding_links(links, present)
        if not losers:
            return 0
        now = utcnow()
        repo.apply(conn, account_id=account_id, now=now, matches=[
            Match(m, "conflict", conflict=f"the marketplace also has a listing with SKU {links[m]}", candidate_sku=links[m])
            for m in losers
        ])  # fmt: skip
        again = repo.facts(conn, account_id=account_id, mskus=sorted({links[m] for m in losers}))
        again = [ListingFacts(f.marketplace_sku, f.identifiers) if f.state != "ignored" else f for f in again]
        repo.apply(conn, account_id=account_id, now=now,
                   matches=match_batch(again, repo.master_view(conn, account_id=account_id, listings=again)))  # fmt: skip
    return len(losers)


class ListingActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.marketplaces: MarketplaceRegistry = deps.services.get("marketplaces") or MarketplaceRegistry(
            deps.engine, deps.settings
        )

    @activity.defn(name="listing-sync-start")
    def start_run(self, inp: StartRunInput) -> StartRunResult:
        with self.engine.begin() as conn:
            runs.start_run(
                conn, run_id=inp.run_id, account_id=inp.account_id, trigger=inp.trigger, now=utcnow()
            )
        return StartRunResult(run_id=inp.run_id)

    @activity.defn(name="listing-sync-batch")
    async def sync_batch(self, inp: SyncBatchInput) -> SyncBatchResult:
        try:
            adapter = self.marketplaces.get(inp.account_id)  # refused credentials end the sync, marked
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        started = time.perf_counter()
        try:
            read = await read_and_link(
                adapter, self.engine, inp.account_id, inp.run_id, cursor=inp.cursor, first=inp.first_page,
                limit=inp.batch_listings, on_page=lambda n, cursor: heartbeat({"read": n, "cursor": cursor}),
                on_wait=heartbeat,
            )  # fmt: skip
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        log.info("listing batch", account_id=inp.account_id, listings=read.listings, pages=read.pages,
                 seconds=round(time.perf_counter() - started, 2))  # fmt: skip
        return SyncBatchResult(
            next_cursor=read.cursor,
            done=read.cursor is None,
            pages=read.pages,
            listings=read.listings,
            report=report_of(read.matches),
        )

    @activity.defn(name="listing-sync-finish")
    def finish_run(self, inp: FinishRunInput) -> FinishRunResult:
        if inp.status == "completed":
            moved = settle_collisions(self.engine, inp.account_id)
            if moved:
                log.info(
                    "identifier links gave way to same-SKU listings",
                    account_id=inp.account_id,
                    listings=moved,
                )
        now = utcnow()
        with self.engine.begin() as conn:
            run = runs.run_row(conn, inp.run_id)
            started = run["started_at"] if run is not None else now
            if inp.status == "completed":
                runs.mark_gone(conn, account_id=inp.account_id, run_id=inp.run_id)
            result = runs.report(conn, account_id=inp.account_id, run_id=inp.run_id, started_at=started)
            runs.finish_run(conn, run_id=inp.run_id, account_id=inp.account_id, status=inp.status, error=inp.error,
                            pages=inp.pages, listings=inp.listings, result=result, now=now)  # fmt: skip
        log.info("listing sync finished", account_id=inp.account_id, status=inp.status, **result.model_dump())
        return FinishRunResult(report=result)

    @activity.defn(name="listing-sync-start-all")
    async def start_all(self, inp: SyncAllInput) -> SyncAllResult:
        """Start (or join) the listing sync of every connected account, with the client this worker polls with."""
        accounts = await asyncio.to_thread(self.marketplaces.accounts)
        client = activity.client()
        started: list[int] = []
        for account in accounts:
            if account.account_id is None:
                continue
            await client.start_workflow(
                SYNC_WORKFLOW,
                ListingSyncInput(
                    account_id=account.account_id,
                    trigger=inp.trigger,
                    batch_listings=inp.batch_listings,
                    batches_per_run=inp.batches_per_run,
                ),
                id=sync_workflow_id(account.account_id),
                task_queue=activity.info().task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            started.append(account.account_id)
        return SyncAllResult(started=started)
