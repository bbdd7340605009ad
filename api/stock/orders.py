"""GET /api/v1/orders: the orders the stock process recorded (webhooks and polls alike), so operators can see what
arrived and what became of it without reading the database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from activities.stock.repository import list_orders
from api.deps import AnyCaller, get_engine
from api.inputs import AccountFilter, BeforeId
from api.routing import ApiRoute
from domain.bounds import Timestamp
from merchflow.db.engine import read_session

router = APIRouter(tags=["stock"], route_class=ApiRoute)

OrderStatus = Literal["received", "allocated", "backordered", "cancelled", "unmanaged"]
Marketplace = Literal["amazon", "ebay", "shopify", "woocommerce"]


class OrderLine(BaseModel):
    sku: str
    quantity: int


class OrderView(BaseModel):
    id: int
    account_id: int
    marketplace: str
    order_id: str
    status: str  # see OrderStatus
    source: str  # webhook | poll | api
    lines: list[OrderLine]
    # allocated SKUs, short lines ({sku, quantity, shortage, action, reason}), unmanaged SKUs, marketplace_cancel
    outcome: dict[str, Any]
    workflow_id: str | None
    received_at: datetime
    processed_at: datetime | None


class OrderPage(BaseModel):
    items: list[OrderView]
    next_before_id: int | None  # pass as before_id for the next (older) page; null on the last page


@router.get(
    "/api/v1/orders",
    response_model=OrderPage,
    summary="Orders received from the marketplaces, newest first",
    description="Filter by status, marketplace, account, SKU (orders with a line for it) and the time the order "
    "was received (`received_from` inclusive, `received_before` exclusive, with a time zone). Page with "
    "`before_id`: each page gives the `next_before_id` of the next, older one.",
)
async def orders(
    request: Request,
    _: AnyCaller,
    status: OrderStatus | None = None,
    marketplace: Marketplace | None = None,
    account_id: AccountFilter = None,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    received_from: Annotated[Timestamp | None, Query(description="e.g. 2025-01-31T00:00:00Z")] = None,
    received_before: Annotated[Timestamp | None, Query()] = None,
    before_id: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrderPage:
    def read() -> list[OrderView]:
        with read_session(get_engine(request)) as session:
            rows = list_orders(
                session,
                status=status,
                marketplace=marketplace,
                account_id=account_id,
                sku=sku,
                received_from=received_from,
                received_before=received_before,
                before_id=before_id,
                limit=limit,
            )
            return [OrderView.model_validate(r, from_attributes=True) for r in rows]

    items = await asyncio.to_thread(read)
    return OrderPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)
