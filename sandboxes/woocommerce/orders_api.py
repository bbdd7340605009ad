"""/wp-json/wc/v3/orders: list (paged, filtered by dates), read, update (status changes, cancellation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandboxes.woocommerce.db import order_json
from sandboxes.woocommerce.errors import json_response
from sandboxes.woocommerce.query import (
    enum_param,
    ids_param,
    int_param,
    json_body,
    order_by,
    paged,
    select_fields,
    where_dates,
)
from sandboxes.woocommerce.sales import ORDER_STATUSES
from sandboxes.woocommerce.site import WooSite

PREFIX = "/wp-json/wc/v3"
ORDERBY = {
    "date": "date_created",
    "id": "id",
    "include": "id",
    "title": "id",
    "slug": "id",
    "modified": "date_modified",
}
EDIT = ["PUT", "PATCH", "POST"]


def orders_router(site: WooSite) -> APIRouter:
    r = APIRouter(prefix=PREFIX)

    @r.get("/orders")
    async def list_orders(request: Request) -> Response:
        site.guard(request, "list")
        q = request.query_params
        page = int_param(q, "page", 1, 1)
        per_page = int_param(q, "per_page", 10, 1, 100)
        where: list[str] = []
        args: list[Any] = []
        status = enum_param(q, "status", "any", ("any", *ORDER_STATUSES))
        if status != "any":
            where.append("status = ?")
            args.append(status)
        where_dates(q, where, args)
        if include := ids_param(q, "include"):
            where.append(f"id IN ({','.join('?' * len(include))})")
            args += include
        sql_where = " AND ".join(where) or "1=1"
        store = site.state.store
        total = store.one(f"SELECT COUNT(*) FROM wc_order WHERE {sql_where}", args)[0]  # type: ignore[index]
        rows = store.query(
            f"SELECT * FROM wc_order WHERE {sql_where} ORDER BY {order_by(q, ORDERBY)} LIMIT ? OFFSET ?",
            [*args, per_page, (page - 1) * per_page],
        )
        return paged(request, [order_json(x) for x in rows], total=total, page=page, per_page=per_page)

    @r.get("/orders/{order_id}")
    async def get_order(request: Request, order_id: int) -> Response:
        site.guard(request, "read")
        return json_response(select_fields(request, order_json(site.sales.get(order_id))))

    @r.api_route("/orders/{order_id}", methods=EDIT)
    async def update_order(request: Request, order_id: int) -> Response:
        site.guard(request, "edit")
        return json_response(site.sales.update(order_id, await json_body(request)))

    return r
