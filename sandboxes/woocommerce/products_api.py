"""/wp-json/wc/v3/products and /products/{id}/variations, with their batch endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandboxes.woocommerce.errors import WooError, invalid_id, invalid_param, json_response
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
from sandboxes.woocommerce.site import WooSite

PREFIX = "/wp-json/wc/v3"
MAX_BATCH = 100
ORDERBY = {
    "date": "date_created",
    "id": "id",
    "include": "id",
    "title": "name",
    "slug": "name",
    "modified": "date_modified",
}
STATUSES = ("any", "publish", "draft", "pending", "private", "trash")
EDIT = ["PUT", "PATCH", "POST"]  # WP_REST_Server::EDITABLE


def products_router(site: WooSite) -> APIRouter:
    r = APIRouter(prefix=PREFIX)
    catalog = site.catalog

    def listing(request: Request, where: list[str], args: list[Any]) -> Response:
        q = request.query_params
        page = int_param(q, "page", 1, 1)
        per_page = int_param(q, "per_page", 10, 1, 100)
        status = enum_param(q, "status", "any", STATUSES)
        where.append("status != 'trash'" if status == "any" else "status = ?")
        args += [] if status == "any" else [status]
        where_dates(q, where, args)
        if include := ids_param(q, "include"):
            where.append(f"id IN ({','.join('?' * len(include))})")
            args += include
        if q.get("search"):
            where.append("name LIKE ?")
            args.append(f"%{q['search']}%")
        sql_where = " AND ".join(where)
        conn = site.state.store
        total = conn.one(f"SELECT COUNT(*) FROM wc_product WHERE {sql_where}", args)[0]  # type: ignore[index]
        rows = conn.query(
            f"SELECT * FROM wc_product WHERE {sql_where} ORDER BY {order_by(q, ORDERBY)} LIMIT ? OFFSET ?",
            [*args, per_page, (page - 1) * per_page],
        )
        return paged(
            request, catalog.to_json([dict(x) for x in rows]), total=total, page=page, per_page=per_page
        )

    def parent(product_id: int) -> dict[str, Any]:
        row = catalog.get(product_id)
        if row["type"] != "variable":
            raise invalid_id("product", 404)
        return row

    @r.get("/products")
    async def list_products(request: Request) -> Response:
        site.guard(request, "list")
        q = request.query_params
        where: list[str] = []
        args: list[Any] = []
        if q.get("sku"):
            # WC_REST_Products_Controller: comma-separated SKUs (plus the whole string), variations included
            skus = q["sku"].split(",")
            if len(skus) > 1:
                skus.append(q["sku"])
            where.append(f"sku IN ({','.join('?' * len(skus))})")
            args += skus
        else:
            where.append("type != 'variation'")
        if q.get("type"):
            where.append("type = ?")
            args.append(enum_param(q, "type", "simple", ("simple", "grouped", "external", "variable")))
        if parent_ids := ids_param(q, "parent"):
            where.append(f"parent_id IN ({','.join('?' * len(parent_ids))})")
            args += parent_ids
        return listing(request, where, args)

    @r.post("/products", status_code=201)
    async def create_product(request: Request) -> Response:
        site.guard(request, "create")
        return _single(catalog.create([await json_body(request)]), 201)

    @r.post("/products/batch")
    async def batch_products(request: Request) -> Response:
        site.guard(request, "batch")
        return json_response(_batch(site, await json_body(request), None))

    @r.get("/products/{product_id}")
    async def get_product(request: Request, product_id: int) -> Response:
        site.guard(request, "read")
        return json_response(select_fields(request, catalog.to_json([catalog.get(product_id)])[0]))

    @r.api_route("/products/{product_id}", methods=EDIT)
    async def update_product(request: Request, product_id: int) -> Response:
        site.guard(request, "edit")
        return _single(catalog.update([{**await _object(request), "id": product_id}]))

    @r.delete("/products/{product_id}")
    async def delete_product(request: Request, product_id: int) -> Response:
        site.guard(request, "delete")
        force = request.query_params.get("force") in ("true", "1")
        return _single(catalog.delete([product_id], force=force), missing=404)

    @r.get("/products/{product_id}/variations")
    async def list_variations(request: Request, product_id: int) -> Response:
        site.guard(request, "list")
        parent(product_id)
        where: list[str] = ["parent_id = ?", "type = 'variation'"]
        args: list[Any] = [product_id]
        if request.query_params.get("sku"):
            where.append("sku = ?")
            args.append(request.query_params["sku"])
        return listing(request, where, args)

    @r.post("/products/{product_id}/variations", status_code=201)
    async def create_variation(request: Request, product_id: int) -> Response:
        site.guard(request, "create")
        parent(product_id)
        return _single(catalog.create([await json_body(request)], parent_id=product_id), 201)

    @r.post("/products/{product_id}/variations/batch")
    async def batch_variations(request: Request, product_id: int) -> Response:
        site.guard(request, "batch")
        parent(product_id)
        return json_response(_batch(site, await json_body(request), product_id))

    @r.get("/products/{product_id}/variations/{variation_id}")
    async def get_variation(request: Request, product_id: int, variation_id: int) -> Response:
        site.guard(request, "read")
        return json_response(
            select_fields(request, catalog.to_json([catalog.get(variation_id, parent_id=product_id)])[0])
        )

    @r.api_route("/products/{product_id}/variations/{variation_id}", methods=EDIT)
    async def update_variation(request: Request, product_id: int, variation_id: int) -> Response:
        site.guard(request, "edit")
        body = {**await _object(request), "id": variation_id}
        return _single(catalog.update([body], parent_id=product_id))

    @r.delete("/products/{product_id}/variations/{variation_id}")
    async def delete_variation(request: Request, product_id: int, variation_id: int) -> Response:
        site.guard(request, "delete")
        force = request.query_params.get("force") in ("true", "1")
        return _single(catalog.delete([variation_id], parent_id=product_id, force=force), missing=404)

    return r


async def _object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body


def _single(answers: list[dict[str, Any]], status: int = 200, missing: int | None = None) -> Response:
    """A single-object endpoint answers the object, or the item's error as the whole response."""
    obj = answers[0]
    if "error" in obj:
        err = obj["error"]
        code_status = missing if missing and err["code"].endswith("_invalid_id") else err["data"]["status"]
        data = {k: v for k, v in err["data"].items() if k != "status"}
        raise WooError(code_status, err["code"], err["message"], data=data)
    return json_response(obj, status=status)


def _batch(site: WooSite, body: Any, parent_id: int | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    parts = {k: body[k] for k in ("create", "update", "delete") if k in body}
    for k, v in parts.items():
        if not isinstance(v, list):
            raise invalid_param(k, f"{k} is not of type array.")
    if sum(len(v) for v in parts.values()) > MAX_BATCH:
        raise WooError(
            413,
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {MAX_BATCH} items for this request.",
        )
    out: dict[str, Any] = {}
    if "create" in parts:
        out["create"] = site.catalog.create(parts["create"], parent_id=parent_id)
    if "update" in parts:
        out["update"] = site.catalog.update(parts["update"], parent_id=parent_id)
    if "delete" in parts:
        out["delete"] = site.catalog.delete(parts["delete"], parent_id=parent_id, force=True)
    return out
