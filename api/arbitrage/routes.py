"""Arbitrage REST: saved searches (each on its own Temporal Schedule), manual scans, deals, receipts and sales, the
report. Thin: validate, read through the queries, start / signal / query workflows by the contract's names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from activities.arbitrage import queries
from activities.arbitrage.schedules import delete_search_schedule, upsert_search_schedule
from activities.arbitrage.tables import SavedSearch, ScanRun
from api.arbitrage.receipts import store_photos
from api.deps import AnyCaller, AppSettings, DbSession, Operator, ReadSession, Temporal
from api.errors import ApiError, error_responses
from api.inputs import Offset
from api.routing import ApiRoute
from domain.bounds import Flag, RowId
from merchflow.db.types import utcnow
from workflows.arbitrage.contract import (
    CHECK_SALES_SIGNAL,
    RECEIVED_SIGNAL,
    SCAN_WORKFLOW,
    SOLD_SIGNAL,
    STATE_QUERY,
    TASK_QUEUE,
    DealStatus,
    ReceiptSignal,
    SaleSignal,
    ScanInput,
    SearchQueryIn,
    deal_workflow_id,
    scan_workflow_id,
)

router = APIRouter(tags=["arbitrage"], route_class=ApiRoute)
SOURCES_HINT = "classifieds | ebay | scraped:<name>"
CONDITIONS = ("new", "sealed", "like_new", "very_good", "good", "acceptable", "for_parts")


class SearchIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=100, description=SOURCES_HINT)
    query: SearchQueryIn = Field(default_factory=SearchQueryIn)
    every_minutes: int = Field(60, ge=5, le=7 * 24 * 60)
    max_offers: int = Field(5000, ge=1, le=1_000_000)
    enabled: Flag = True


class SearchPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    query: SearchQueryIn | None = None
    every_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    max_offers: int | None = Field(default=None, ge=1, le=1_000_000)
    enabled: Flag | None = None


class SaleIn(BaseModel):
    sale_price: Decimal = Field(gt=0, le=1_000_000)
    fees: Decimal | None = Field(default=None, ge=0, le=1_000_000)
    marketplace: str | None = Field(default=None, max_length=32)
    order_ref: str | None = Field(default=None, max_length=100)


def _check_source(request: Request, source: str) -> None:
    known = [
        "classifieds",
        "ebay",
        *(f"scraped:{k}" for k in request.app.state.settings.arbitrage.scraped_sources),
    ]
    if source not in known:
        raise ApiError(422, f"source: unknown offer source {source!r}; known: {', '.join(known)}",
                       details=[{"location": "body.source", "message": f"one of {known}"}])  # fmt: skip


async def _schedule(temporal: Client, settings: Any, s: SavedSearch) -> None:
    try:
        await upsert_search_schedule(temporal, settings, search_id=s.id or 0, every_minutes=s.every_minutes,
                                     enabled=s.enabled)  # fmt: skip
    except RPCError as exc:
        raise ApiError(503, f"saved, but its schedule could not be set: {exc.message}; save again") from exc


@router.post(
    "/api/v1/arbitrage/searches", status_code=201, summary="Save a search; it runs on its own schedule"
)
async def create_search(body: SearchIn, request: Request, caller: Operator, settings: AppSettings,
                        temporal: Temporal) -> dict[str, Any]:  # fmt: skip
    _check_source(request, body.source)

    def save() -> SavedSearch:
        from merchflow.db.engine import session_scope

        with session_scope(request.app.state.engine) as s:
            row = SavedSearch(name=body.name, source=body.source, query=body.query.model_dump(mode="json"),
                              every_minutes=body.every_minutes, max_offers=body.max_offers, enabled=body.enabled,
                              created_by=caller.username)  # fmt: skip
            s.add(row)
            s.flush()
            s.refresh(row)
            return row

    row = await run_in_threadpool(save)
    await _schedule(temporal, settings, row)
    return {**queries.search_json(row), "schedule_id": f"arbitrage-search-{row.id}"}


@router.get("/api/v1/arbitrage/searches", summary="Saved searches")
def list_searches(caller: AnyCaller, session: ReadSession) -> dict[str, Any]:
    from sqlmodel import col, select

    rows = session.exec(select(SavedSearch).order_by(col(SavedSearch.id))).all()
    return {"items": [queries.search_json(r) for r in rows]}


@router.patch("/api/v1/arbitrage/searches/{search_id}", summary="Change a saved search (and its schedule)",
              responses=error_responses(404))  # fmt: skip
async def patch_search(search_id: Annotated[RowId, Path()], body: SearchPatch, request: Request, caller: Operator,
                       settings: AppSettings, temporal: Temporal) -> dict[str, Any]:  # fmt: skip
    def save() -> SavedSearch:
        from merchflow.db.engine import session_scope

        with session_scope(request.app.state.engine) as s:
            row = s.get(SavedSearch, search_id)
            if row is None:
                raise ApiError(404, f"no saved search {search_id}")
            for name, value in body.model_dump(exclude_unset=True, mode="json").items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            s.add(row)
            return row

    row = await run_in_threadpool(save)
    await _schedule(temporal, settings, row)
    return queries.search_json(row)


@router.delete("/api/v1/arbitrage/searches/{search_id}", summary="Disable a saved search and drop its schedule",
               responses=error_responses(404))  # fmt: skip
async def delete_search(search_id: Annotated[RowId, Path()], caller: Operator, session: DbSession,
                        temporal: Temporal) -> dict[str, Any]:  # fmt: skip
    row = session.get(SavedSearch, search_id)
    if row is None:
        raise ApiError(404, f"no saved search {search_id}")
    row.enabled = False
    session.add(row)
    await delete_search_schedule(temporal, search_id)
    return {"id": search_id, "enabled": False}


@router.post("/api/v1/arbitrage/searches/{search_id}/runs", status_code=202, summary="Scan now",
             responses=error_responses(404))  # fmt: skip
async def run_search(search_id: Annotated[RowId, Path()], caller: Operator, session: ReadSession, settings: AppSettings,
                     temporal: Temporal,
                     max_offers: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> dict[str, Any]:  # fmt: skip
    if session.get(SavedSearch, search_id) is None:
        raise ApiError(404, f"no saved search {search_id}")
    wid = f"{scan_workflow_id(search_id)}-manual-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    await temporal.start_workflow(SCAN_WORKFLOW, ScanInput(search_id=search_id, max_offers=max_offers), id=wid,
                                  task_queue=settings.task_queue(TASK_QUEUE))  # fmt: skip
    return {"scan_id": wid, "status_url": f"/api/v1/arbitrage/scans/{wid}"}


@router.get("/api/v1/arbitrage/scans/{scan_id}", summary="A scan's counts", responses=error_responses(404))
def scan_status(
    scan_id: Annotated[str, Path(max_length=200)], caller: AnyCaller, session: ReadSession
) -> dict[str, Any]:
    run = session.get(ScanRun, scan_id)
    if run is None:
        raise ApiError(404, f"no scan {scan_id!r}")
    return queries.scan_json(run)


@router.get("/api/v1/arbitrage/offers", summary="Offers a scan looked at, with the verdict and its reason")
def offers(caller: AnyCaller, session: ReadSession, scan_id: Annotated[str | None, Query(max_length=200)] = None,
           verdict: Annotated[str | None, Query(max_length=20)] = None, offset: Offset = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:  # fmt: skip
    total, rows = queries.offers_page(session, scan_id=scan_id, verdict=verdict, offset=offset, limit=limit)
    return {"total": total, "offset": offset, "limit": limit, "items": [
        {"offer_key": r.offer_key, "title": r.title, "price": queries.money(r.price), "verdict": r.verdict,
         "reason": r.reason, "product_key": r.product_key, "scan_id": r.scan_id} for r in rows]}  # fmt: skip


@router.get("/api/v1/arbitrage/deals", summary="Deals, newest first")
def deals(caller: AnyCaller, session: ReadSession, state: Annotated[str | None, Query(max_length=30)] = None,
          source: Annotated[str | None, Query(max_length=100)] = None, search_id: Annotated[RowId | None, Query()] = None,
          offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:  # fmt: skip
    total, rows = queries.deals_page(
        session, state=state, source=source, search_id=search_id, offset=offset, limit=limit
    )
    return {"total": total, "offset": offset, "limit": limit, "items": [queries.deal_json(d) for d in rows]}


@router.get("/api/v1/arbitrage/deals/{deal_id}", summary="One deal: numbers, messages, timeline, live state",
            responses=error_responses(404))  # fmt: skip
async def deal(
    deal_id: Annotated[str, Path(max_length=40)], caller: AnyCaller, request: Request
) -> dict[str, Any]:
    def load() -> dict[str, Any] | None:
        from merchflow.db.engine import read_session

        with read_session(request.app.state.engine) as s:
            return queries.deal_detail(s, deal_id)

    out = await run_in_threadpool(load)
    if out is None:
        raise ApiError(404, f"no deal {deal_id!r}")
    client = await request.app.state.temporal.get()
    out["workflow"] = None
    if client is not None:
        try:
            live = await client.get_workflow_handle(deal_workflow_id(deal_id)).query(
                STATE_QUERY, result_type=DealStatus
            )
            out["workflow"] = live.model_dump(mode="json")
        except RPCError:
            pass  # finished long ago, or not started yet: the table is the truth
    return out


async def _signal(temporal: Client, deal_id: str, signal: str, arg: Any = None) -> None:
    handle = temporal.get_workflow_handle(deal_workflow_id(deal_id))
    try:
        await (handle.signal(signal, arg) if arg is not None else handle.signal(signal))
    except RPCError as exc:
        raise ApiError(409, f"deal {deal_id} is not running ({exc.message})") from exc


@router.post("/api/v1/arbitrage/deals/{deal_id}/receipt", status_code=202, summary="Mark a bought item received",
             responses=error_responses(404, 409, 413))  # fmt: skip
async def receipt(deal_id: Annotated[str, Path(max_length=40)], request: Request, caller: Operator, temporal: Temporal,
                  condition: Annotated[str, Form(max_length=20)],
                  notes: Annotated[str, Form(max_length=2000)] = "",
                  photos: Annotated[list[UploadFile] | None, File()] = None) -> dict[str, Any]:  # fmt: skip
    if condition not in CONDITIONS:
        raise ApiError(422, f"condition: one of {', '.join(CONDITIONS)}")
    keys = await store_photos(request, deal_id, photos or [])
    await _signal(temporal, deal_id, RECEIVED_SIGNAL,
                  ReceiptSignal(condition=condition, photos=keys, notes=notes, received_by=caller.username))  # fmt: skip
    return {"deal_id": deal_id, "photos": keys, "status": "received"}


@router.post("/api/v1/arbitrage/deals/{deal_id}/sale", status_code=202, summary="Record a sale made elsewhere",
             responses=error_responses(409))  # fmt: skip
async def sale(deal_id: Annotated[str, Path(max_length=40)], body: SaleIn, caller: Operator,
               temporal: Temporal) -> dict[str, Any]:  # fmt: skip
    await _signal(
        temporal, deal_id, SOLD_SIGNAL, SaleSignal(**body.model_dump(), recorded_by=caller.username)
    )
    return {"deal_id": deal_id, "status": "recorded"}


@router.post("/api/v1/arbitrage/deals/{deal_id}/check-sales", status_code=202, summary="Look for the sale now",
             responses=error_responses(409))  # fmt: skip
async def check_sales(
    deal_id: Annotated[str, Path(max_length=40)], caller: Operator, temporal: Temporal
) -> dict[str, Any]:
    await _signal(temporal, deal_id, CHECK_SALES_SIGNAL)
    return {"deal_id": deal_id, "status": "checking"}


@router.get("/api/v1/arbitrage/report", summary="The loop's P&L: predicted vs realised, hit rate")
def report(caller: AnyCaller, session: ReadSession) -> dict[str, Any]:
    return queries.report(session)
