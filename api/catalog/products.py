"""The master catalog: list (filters, cursor paging), read, change, archive (DELETE: linked listings are then
deactivated through a decision), and export as CSV or JSON lines, streamed in constant memory."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.catalog import products as repo
from api.deps import AnyCaller, AppSettings, Operator, Temporal, get_engine
from api.errors import ApiError
from api.routing import ApiRoute
from domain.bounds import MAX_ON_HAND
from domain.catalog import fields
from domain.catalog.fields import MAX_MONEY
from domain.catalog.issues import RowIssue, Severity
from domain.identifiers import NORMALISERS
from merchflow.db.engine import session_scope
from merchflow.db.identifiers import identifiers_of
from merchflow.db.types import utcnow
from workflows.listings.contract import ARCHIVE_WORKFLOW, TASK_QUEUE, ArchiveInput, archive_workflow_id

router = APIRouter(prefix="/api/v1/products", tags=["products"], route_class=ApiRoute)
Sku = Annotated[str, Path(min_length=1, max_length=64)]
EXPORT_COLUMNS = ("sku", "name", "brand", "category", "cost", "price", "min_price", "max_price", "currency",
                  *NORMALISERS, "parent_sku", "options", "attributes", "image_refs", "status", "on_hand", "reserved",
                  "available")  # fmt: skip


class StockOut(BaseModel):
    on_hand: int
    reserved: int
    available: int
    managed: bool  # False: the master keeps no stock for it (pushes and reconciles leave its listings alone)


class ProductOut(BaseModel):
    sku: str
    name: str
    brand: str | None
    category: str | None
    cost: str
    price: str | None
    min_price: str | None
    max_price: str | None
    currency: str
    identifiers: dict[str, str]
    attributes: dict[str, Any]
    image_refs: list[str]
    parent_sku: str | None
    options: dict[str, Any] | None
    status: str
    archived_at: datetime | None
    updated_at: datetime
    stock: StockOut
    listings: list[dict[str, Any]] = Field(default_factory=list)


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


# a number for a money field (text is read by domain/catalog/fields.money, which gives the per-field error); the
# columns hold less than MAX_MONEY
MoneyNumber = Annotated[float, Field(ge=0, lt=float(MAX_MONEY), allow_inf_nan=False)]


class ProductPatch(BaseModel):
    name: str | None = None
    brand: str | None = None
    category: str | None = None
    cost: str | MoneyNumber | None = None
    price: str | MoneyNumber | None = None
    min_price: str | MoneyNumber | None = None
    max_price: str | MoneyNumber | None = None
    currency: str | None = None
    identifiers: dict[str, str] | None = None  # replaces them all ({} removes them)
    attributes: dict[str, Any] | None = None  # replaces them (identifiers are kept)
    image_refs: list[str] | None = None


class ArchiveOut(BaseModel):
    sku: str
    status: str
    live_listings: int
    deactivation: str | None  # the workflow proposing to end the listings, when there are any


def _money(v: Decimal | None) -> str | None:
    return None if v is None else format(v, "f")


def _out(row: sa.RowMapping, links: list[dict[str, Any]] | None = None) -> ProductOut:
    on_hand, reserved = row["on_hand"], row["reserved"]
    attrs = dict(row["attributes"] or {})
    return ProductOut(
        sku=row["sku"], name=row["name"], brand=row["brand"], category=row["category"], cost=format(row["cost"], "f"),
        price=_money(row["price"]), min_price=_money(row["min_price"]), max_price=_money(row["max_price"]),
        currency=row["currency"], identifiers=identifiers_of(attrs), attributes={k: v for k, v in attrs.items() if k != "identifiers"},
        image_refs=list(row["image_refs"] or []), parent_sku=row["parent_sku"], options=row["options"], status=row["status"],
        archived_at=row["archived_at"], updated_at=row["updated_at"],
        stock=StockOut(on_hand=on_hand or 0, reserved=reserved or 0, available=max(0, (on_hand or 0) - (reserved or 0)),
                       managed=on_hand is not None),
        listings=links or [],
    )  # fmt: skip


def _filter(q: str | None, category: str | None, brand: str | None, marketplace: str | None, linked: bool | None,
            stock_below: int | None, status: str, parent_sku: str | None) -> repo.ProductFilter:  # fmt: skip
    return repo.ProductFilter(q=q, category=category, brand=brand, marketplace=marketplace, linked=linked,
                              stock_below=stock_below, status=status, parent_sku=parent_sku)  # fmt: skip


Status = Literal["active", "archived", "any"]


@router.get("", response_model=ProductPage, summary="Products, filtered, in SKU order (cursor paging)")
async def list_products(
    request: Request, _: AnyCaller,
    q: Annotated[str | None, Query(max_length=200, description="text in the SKU, name or brand")] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    marketplace: Annotated[Literal["amazon", "ebay", "shopify", "woocommerce"] | None, Query()] = None,
    linked: Annotated[bool | None, Query(description="with (true) or without (false) a live listing")] = None,
    stock_below: Annotated[int | None, Query(ge=-MAX_ON_HAND, le=MAX_ON_HAND, description="available stock below this")] = None,
    status: Annotated[Status, Query()] = "active",
    parent_sku: Annotated[str | None, Query(max_length=64, description="the variants of this product")] = None,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ProductPage:  # fmt: skip
    f = _filter(q, category, brand, marketplace, linked, stock_below, status, parent_sku)

    def read() -> ProductPage:
        with get_engine(request).execution_options(readonly=True).connect() as conn:
            rows, links = repo.page(conn, f, after=cursor, limit=limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return ProductPage(
            items=[_out(r, links.get(r["sku"])) for r in rows], next_cursor=rows[-1]["sku"] if more else None
        )

    return await asyncio.to_thread(read)


def _csv_lines(rows: Iterator[sa.RowMapping]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for n, row in enumerate(rows, 1):
        p = _out(row)
        writer.writerow([
            p.sku, p.name, p.brand or "", p.category or "", p.cost, p.price or "", p.min_price or "", p.max_price or "",
            p.currency, *(p.identifiers.get(k, "") for k in NORMALISERS), p.parent_sku or "",
            json.dumps(p.options) if p.options else "", json.dumps(p.attributes) if p.attributes else "",
            "|".join(p.image_refs), p.status, p.stock.on_hand, p.stock.reserved, p.stock.available,
        ])  # fmt: skip
        if n % 200 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl_lines(rows: Iterator[sa.RowMapping]) -> Iterator[str]:
    chunk: list[str] = []
    for row in rows:
        chunk.append(_out(row).model_dump_json(exclude={"listings"}) + "\n")
        if len(chunk) >= 200:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


@router.get("/export", summary="Every matching product as CSV or JSON lines, streamed (constant memory)",
            response_class=StreamingResponse)  # fmt: skip
def export_products(
    request: Request, _: AnyCaller,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    marketplace: Annotated[Literal["amazon", "ebay", "shopify", "woocommerce"] | None, Query()] = None,
    linked: Annotated[bool | None, Query()] = None,
    stock_below: Annotated[int | None, Query(ge=-MAX_ON_HAND, le=MAX_ON_HAND)] = None,
    status: Annotated[Status, Query()] = "active",
) -> StreamingResponse:  # fmt: skip
    f = _filter(q, category, brand, marketplace, linked, stock_below, status, None)
    rows = repo.export_rows(get_engine(request), f)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    body = _csv_lines(rows) if format == "csv" else _jsonl_lines(rows)
    name = f"products.{format}"
    return StreamingResponse(
        body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


@router.get("/{sku}", response_model=ProductOut, summary="One product, with its stock and its listings")
async def get_product(request: Request, sku: Sku, _: AnyCaller) -> ProductOut:
    def read() -> ProductOut:
        with get_engine(request).execution_options(readonly=True).connect() as conn:
            row = repo.one(conn, sku)
            return _out(row, repo.links(conn, [sku]).get(sku))

    try:
        return await asyncio.to_thread(read)
    except repo.ProductError as exc:
        raise ApiError(exc.status, str(exc)) from None


def _validate(patch: ProductPatch) -> tuple[dict[str, Any], dict[str, str] | None]:
    given = patch.model_dump(exclude_unset=True)
    issues: list[RowIssue] = []
    changes: dict[str, Any] = {}
    for name in ("name", "brand", "category"):
        if name in given:
            value = fields.text(given, name, 0, issues, required=name == "name")
            if value is not None or name != "name":
                changes[name] = value
    for name in fields.MONEY_FIELDS:
        if name in given:
            changes[name] = fields.money(given[name], name, 0, issues, required=name == "cost")
    if "currency" in given:
        changes["currency"] = fields.currency(given["currency"], 0, issues)
    if "attributes" in given:
        changes["attributes"] = fields.attributes(given["attributes"] or {}, 0, issues) or {}
    if "image_refs" in given:
        changes["image_refs"] = fields.image_refs(given["image_refs"] or [], 0, issues)
    identifiers = None
    if "identifiers" in given:
        unknown = sorted(set(given["identifiers"] or {}) - set(NORMALISERS))
        if unknown:
            issues.append(
                RowIssue(
                    0, "identifiers", "invalid_value", f"unknown identifier kind(s): {', '.join(unknown)}"
                )
            )
        identifiers = fields.identifiers(given["identifiers"] or {}, 0, issues)
    errors = [i for i in issues if i.severity == Severity.ERROR]
    if errors:
        raise ApiError(
            422,
            "the changes are not valid",
            details=[{"field": i.field, "message": i.message} for i in errors],
        )
    return changes, identifiers


@router.patch("/{sku}", response_model=ProductOut, summary="Change a product (only the fields sent)")
async def update_product(request: Request, sku: Sku, body: ProductPatch, caller: Operator) -> ProductOut:
    changes, identifiers = _validate(body)

    def write() -> None:
        with session_scope(get_engine(request)) as s:
            repo.update(
                s.connection(),
                sku=sku,
                changes=changes,
                identifiers=identifiers,
                actor=caller.username,
                now=utcnow(),
            )

    try:
        await asyncio.to_thread(write)
    except repo.ProductError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return await get_product(request, sku, caller)


@router.delete("/{sku}", response_model=ArchiveOut, status_code=202,
               summary="Archive a product; its live listings are deactivated once a decision approves it")  # fmt: skip
async def archive_product(
    request: Request, sku: Sku, caller: Operator, settings: AppSettings, temporal: Temporal
) -> ArchiveOut:
    now = utcnow()

    def write() -> tuple[bool, int, datetime | None]:
        with session_scope(get_engine(request)) as s:
            conn = s.connection()
            changed, live = repo.archive(conn, sku=sku, actor=caller.username, now=now)
            return changed, live, repo.one(conn, sku)["archived_at"]

    try:
        _changed, live, archived_at = await asyncio.to_thread(write)
    except repo.ProductError as exc:
        raise ApiError(exc.status, str(exc)) from None
    workflow_id = None
    if live and archived_at is not None:
        stamp = archived_at.strftime("%Y%m%dT%H%M%S")
        workflow_id = archive_workflow_id(sku, stamp)
        try:
            await temporal.start_workflow(
                ARCHIVE_WORKFLOW, ArchiveInput(sku=sku, actor=caller.username, archived_at=stamp), id=workflow_id,
                task_queue=settings.task_queue(TASK_QUEUE), id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # fmt: skip
        except WorkflowAlreadyStartedError:
            pass  # archived before: its deactivation is already on its way
    return ArchiveOut(sku=sku, status="archived", live_listings=live, deactivation=workflow_id)
