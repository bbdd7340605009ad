"""Listing sync and links: start a sync (on demand), follow it, read the listings with their match, resolve
conflicts, set a listing's buffer and automation switches, create master products from unmatched listings."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from activities.listings import manage
from activities.listings import repository as repo
from api.deps import AppSettings, Operator, Temporal, get_engine
from api.errors import ApiError
from api.listings.start import start_listing_sync
from api.routing import ApiRoute
from domain.bounds import MAX_ROW_ID, Flag, RowId
from merchflow.logging import get_logger
from workflows.listings.contract import PROGRESS_QUERY, ListingSyncProgress, sync_workflow_id

router = APIRouter(tags=["listings"], route_class=ApiRoute)
log = get_logger(__name__)
AccountId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
ListingId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
State = Literal["linked", "conflict", "unmatched", "ignored"]


class ListingOut(BaseModel):
    id: int
    account_id: int
    marketplace_sku: str
    title: str | None
    brand: str | None
    identifiers: dict[str, str]
    price: str | None
    currency: str | None
    quantity: int | None
    status: str | None
    parent_sku: str | None
    options: dict[str, Any] | None
    match_state: str
    product_sku: str | None
    match_method: str | None
    conflict: str | None
    candidate_sku: str | None
    gone: bool
    safety_buffer: int | None = None
    stock_automation: bool | None = None
    price_automation: bool | None = None


class ListingPage(BaseModel):
    items: list[ListingOut]
    next_cursor: int | None


class ResolveRequest(BaseModel):
    action: Literal["link", "unlink", "ignore"]
    product_sku: str | None = Field(default=None, max_length=64)
    replace: Flag = False


class ListingOptions(BaseModel):
    safety_buffer: int | None = Field(default=None, ge=0, le=1_000_000)
    stock_automation: Flag | None = None
    price_automation: Flag | None = None


class CreateProductsRequest(BaseModel):
    listing_ids: list[RowId] | None = Field(default=None, max_length=100_000)


class CreateProductsOut(BaseModel):
    created: int
    linked: int
    skipped: list[dict[str, str]]
    note: str = (
        "products made from listings have cost 0 and are excluded from price automation until you set it"
    )


class SyncStarted(BaseModel):
    workflow_id: str
    account_id: int


def _out(row: sa.RowMapping, link: sa.RowMapping | None = None) -> ListingOut:
    extra = {}
    if link is not None and "stock_automation" in link:
        extra = {k: link[k] for k in ("safety_buffer", "stock_automation", "price_automation")}
    price = row["price"]
    return ListingOut(
        **{
            k: row[k]
            for k in (
                "id",
                "account_id",
                "marketplace_sku",
                "title",
                "brand",
                "currency",
                "quantity",
                "status",
                "parent_sku",
                "options",
                "match_state",
                "product_sku",
                "match_method",
                "conflict",
                "candidate_sku",
                "gone",
            )
        },
        identifiers=dict(row["identifiers"] or {}),
        price=None if price is None else format(price, "f"),
        **extra,
    )


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except manage.ListingError as exc:
        raise ApiError(exc.status, str(exc)) from None


@router.post("/api/v1/accounts/{account_id}/listing-sync", status_code=202, response_model=SyncStarted,
             summary="Sync the account's listings now (joins a sync already running)")  # fmt: skip
async def sync_now(
    request: Request, account_id: AccountId, _: Operator, settings: AppSettings, temporal: Temporal
) -> SyncStarted:
    def exists() -> bool:
        with get_engine(request).connect() as conn:
            return conn.execute(
                sa.select(repo.ACC.c.status).where(repo.ACC.c.id == account_id)
            ).scalar_one_or_none() not in (None, "removed")

    if not await asyncio.to_thread(exists):
        raise ApiError(404, f"no marketplace account {account_id}")
    await start_listing_sync(temporal, settings, account_id, "manual")
    return SyncStarted(workflow_id=sync_workflow_id(account_id), account_id=account_id)


@router.get(
    "/api/v1/accounts/{account_id}/listing-sync", summary="The account's latest listing sync and its report"
)
async def sync_status(
    request: Request, account_id: AccountId, _: Operator, temporal: Temporal
) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        with get_engine(request).connect() as conn:
            found = conn.execute(
                sa.select(repo.ACC.c.listing_sync, repo.ACC.c.status).where(repo.ACC.c.id == account_id)
            ).first()
            return None if found is None or found.status == "removed" else dict(found.listing_sync or {})

    state = await asyncio.to_thread(read)
    if state is None:
        raise ApiError(404, f"no marketplace account {account_id}")
    if state.get("status") == "running":
        try:
            live = await temporal.get_workflow_handle(sync_workflow_id(account_id)).query(
                PROGRESS_QUERY, result_type=ListingSyncProgress, rpc_timeout=timedelta(seconds=3)
            )
            state["progress"] = live.model_dump(mode="json")
        except Exception as exc:  # no worker right now: the stored state is what there is
            log.info("listing sync progress unavailable", account_id=account_id, error=str(exc))
    return state


@router.get(
    "/api/v1/listings",
    response_model=ListingPage,
    summary="Marketplace listings with their match (cursor paging)",
)
async def list_listings(
    request: Request, _: Operator,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    state: Annotated[State | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the SKU or title")] = None,
    cursor: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ListingPage:  # fmt: skip
    def read() -> ListingPage:
        stmt = sa.select(repo.CH).order_by(repo.CH.c.id).limit(limit + 1)
        if account_id is not None:
            stmt = stmt.where(repo.CH.c.account_id == account_id)
        if state is not None:
            stmt = stmt.where(repo.CH.c.match_state == state)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(repo.CH.c.marketplace_sku).like(like),
                    sa.func.lower(repo.CH.c.title).like(like),
                )
            )
        if cursor:
            stmt = stmt.where(repo.CH.c.id > cursor)
        with get_engine(request).connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        return ListingPage(items=[_out(r) for r in rows], next_cursor=rows[-1]["id"] if more else None)

    return await asyncio.to_thread(read)


@router.get(
    "/api/v1/listings/{listing_id}", response_model=ListingOut, summary="One listing, with its link settings"
)
async def get_listing(request: Request, listing_id: ListingId, _: Operator) -> ListingOut:
    def read() -> ListingOut:
        with get_engine(request).connect() as conn:
            row = manage.listing(conn, listing_id)
            return _out(row, manage.link_of(conn, row))

    return await asyncio.to_thread(_guard, read)


@router.post("/api/v1/listings/{listing_id}/resolve", response_model=ListingOut,
             summary="Resolve a conflict: link to a product, unlink, or ignore")  # fmt: skip
async def resolve_listing(
    request: Request, listing_id: ListingId, body: ResolveRequest, caller: Operator
) -> ListingOut:
    row = await asyncio.to_thread(_guard, manage.resolve, get_engine(request), listing_id=listing_id, action=body.action,
                                  actor=caller.username, product_sku=body.product_sku, replace=body.replace)  # fmt: skip
    return _out(row)


@router.patch("/api/v1/listings/{listing_id}", response_model=ListingOut,
              summary="A listing's safety buffer (null: the account's) and stock / price automation switches")  # fmt: skip
async def listing_options(
    request: Request, listing_id: ListingId, body: ListingOptions, caller: Operator
) -> ListingOut:
    changes = body.model_dump(exclude_unset=True)
    for key in ("stock_automation", "price_automation"):
        if key in changes and changes[key] is None:
            raise ApiError(422, f"{key} must be true or false")
    if not changes:
        raise ApiError(422, "nothing to change: safety_buffer, stock_automation or price_automation")

    def change() -> ListingOut:
        link = manage.set_options(
            get_engine(request), listing_id=listing_id, actor=caller.username, changes=changes
        )
        with get_engine(request).connect() as conn:
            return _out(manage.listing(conn, listing_id), link)

    return await asyncio.to_thread(_guard, change)


@router.post("/api/v1/accounts/{account_id}/listings/create-products", response_model=CreateProductsOut,
             summary="Create master products from the account's unmatched listings, each linked to its listing")  # fmt: skip
async def create_products(
    request: Request, account_id: AccountId, caller: Operator, body: CreateProductsRequest | None = None
) -> CreateProductsOut:
    ids = body.listing_ids if body else None
    made = await asyncio.to_thread(_guard, manage.create_products, get_engine(request), account_id=account_id,
                                   actor=caller.username, listing_ids=ids)  # fmt: skip
    return CreateProductsOut(created=made.created, linked=made.linked, skipped=made.skipped)
