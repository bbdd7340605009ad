"""Listings Items API 2021-08-01: get / put / patch / delete one item, search the seller's items (pageToken paging)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.attributes import (
    ListingValues,
    apply_attributes,
    apply_patches,
    issue,
)
from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param
from sandboxes.amazon.items import render_item, write_listing
from sandboxes.amazon.store import LISTING_COLUMNS, get_listing

BASE = "/listings/2021-08-01/items"
SEARCH_SORT = {"sku": "sku", "createdDate": "created_at", "lastUpdatedDate": "updated_at"}


def submission(sku: str, issues: list[dict], *, preview: bool = False) -> dict[str, Any]:
    ok = "VALID" if preview else "ACCEPTED"
    return {
        "sku": sku,
        "status": "INVALID" if issues else ok,
        "submissionId": uuid.uuid4().hex,
        "issues": issues,
    }


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body(), parse_float=Decimal)
    except ValueError:
        raise SpApiError(
            400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed."
        ) from None
    if not isinstance(body, dict):
        raise SpApiError(
            400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed."
        )
    return body


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Listings Items 2021-08-01"])
    store = sbx.state.store

    @r.get(BASE + "/{seller_id}/{sku:path}")
    async def get_listings_item(seller_id: str, sku: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getListingsItem")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        row = get_listing(store, sku)
        if row is None:
            raise SpApiError(
                404,
                "NOT_FOUND",
                f"SKU '{sku}' not found in marketplace {sbx.marketplace_id}",
                headers=headers,
            )
        included = csv_param(request, "includedData") or ["summaries"]
        return JSONResponse(render_item(row, included, sbx.marketplace_id), headers=headers)

    @r.put(BASE + "/{seller_id}/{sku:path}")
    async def put_listings_item(seller_id: str, sku: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "putListingsItem")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        body = await json_body(request)
        if not isinstance(body.get("productType"), str) or not isinstance(body.get("attributes"), dict):
            raise SpApiError(
                400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed."
            )
        before = get_listing(store, sku)
        new, issues = apply_attributes(
            ListingValues.of(before),
            body["attributes"],
            full=body.get("requirements") != "LISTING_OFFER_ONLY",
            marketplace_id=sbx.marketplace_id,
            currency=sbx.currency,
        )
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        if not issues and not preview:
            write_listing(sbx, sku, before, new, body["productType"])
        return JSONResponse(submission(sku, issues, preview=preview), headers=headers)

    @r.patch(BASE + "/{seller_id}/{sku:path}")
    async def patch_listings_item(seller_id: str, sku: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "patchListingsItem")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        body = await json_body(request)
        if not isinstance(body.get("productType"), str) or not isinstance(body.get("patches"), list):
            raise SpApiError(
                400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed."
            )
        before = get_listing(store, sku)
        if before is None:
            if sbx.knobs.accept_unknown_sku_patches:
                return JSONResponse(submission(sku, []), headers=headers)
            issues = [
                issue(
                    "NOT_FOUND",
                    f"SKU '{sku}' is not listed in marketplace {sbx.marketplace_id}.",
                    None,
                    "INVALID",
                )
            ]
            return JSONResponse(submission(sku, issues), headers=headers)
        new, issues = apply_patches(
            ListingValues.of(before),
            body["patches"],
            marketplace_id=sbx.marketplace_id,
            currency=sbx.currency,
        )
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        if not issues and not preview:
            write_listing(sbx, sku, before, new, body["productType"])
        return JSONResponse(submission(sku, issues, preview=preview), headers=headers)

    @r.delete(BASE + "/{seller_id}/{sku:path}")
    async def delete_listings_item(seller_id: str, sku: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "deleteListingsItem")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        before = get_listing(store, sku)
        if before is not None:
            store.execute(
                "UPDATE az_listing SET deleted = 1, updated_at = ? WHERE sku = ?", (time.time(), sku)
            )
            sbx.state.record_effect(f"listing:{sku}", "status", "ACTIVE", "DELETED")
        return JSONResponse(submission(sku, []), headers=headers)

    @r.get(BASE + "/{seller_id}")
    async def search_listings_items(seller_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "searchListingsItems")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        q = request.query_params
        try:
            page_size = int(q.get("pageSize", "10"))
        except ValueError:
            page_size = 0
        if not 1 <= page_size <= 20:
            raise SpApiError(400, "InvalidInput", "'pageSize' must be between 1 and 20.", headers=headers)
        sort_col = SEARCH_SORT.get(q.get("sortBy", "lastUpdatedDate"))
        order = q.get("sortOrder", "DESC")
        if sort_col is None or order not in ("ASC", "DESC"):
            raise SpApiError(400, "InvalidInput", "Invalid 'sortBy' or 'sortOrder'.", headers=headers)
        where, params = ["deleted = 0"], []
        identifiers = csv_param(request, "identifiers")
        if identifiers:
            id_type = q.get("identifiersType")
            if id_type not in ("SKU", "ASIN"):
                raise SpApiError(400, "InvalidInput", "'identifiersType' is required with 'identifiers'.")
            where.append(f"{id_type.lower()} IN ({','.join('?' * len(identifiers))})")
            params += identifiers
        count_row = store.one(f"SELECT COUNT(*) AS n FROM az_listing WHERE {' AND '.join(where)}", params)
        total = count_row["n"] if count_row else 0
        cmp = ">" if order == "ASC" else "<"
        token = q.get("pageToken")
        if token:
            key = _decode_token(token)
            if sort_col == "sku":
                where.append(f"sku {cmp} ?")
                params.append(key[1])
            else:
                where.append(f"({sort_col}, sku) {cmp} (?, ?)")
                params += key
        rows = store.query(
            f"SELECT {LISTING_COLUMNS} FROM az_listing WHERE {' AND '.join(where)} "
            f"ORDER BY {sort_col} {order}, sku {order} LIMIT ?",
            [*params, page_size + 1],
        )
        included = csv_param(request, "includedData") or ["summaries"]
        page = [dict(row) for row in rows[:page_size]]
        body: dict[str, Any] = {
            "numberOfResults": total,
            "items": [render_item(row, included, sbx.marketplace_id) for row in page],
        }
        if len(rows) > page_size:
            last = page[-1]
            body["pagination"] = {"nextToken": _encode_token(last[sort_col], last["sku"])}
        return JSONResponse(body, headers=headers)

    return r


def _encode_token(sort_value: Any, sku: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort_value, sku]).encode()).decode().rstrip("=")


def _decode_token(token: str) -> list[Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
            return value
    except ValueError:
        pass
    raise SpApiError(400, "InvalidInput", "Invalid 'pageToken'.")
