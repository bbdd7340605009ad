"""Listings Items API 2021-08-01: get / put / patch / delete one item, search the seller's items (pageToken paging)."""

from __future__ import annotations

import json
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
from sandboxes.amazon.pending import apply_due_writes, apply_write, defer
from sandboxes.amazon.store import get_listing

BASE = "/listings/2021-08-01/items"


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
        apply_due_writes(sbx)
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
        if not issues and not preview and not defer(sbx, sku, "put", body):
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
        if not issues and not preview and not defer(sbx, sku, "patch", body):
            write_listing(sbx, sku, before, new, body["productType"])
        return JSONResponse(submission(sku, issues, preview=preview), headers=headers)

    @r.delete(BASE + "/{seller_id}/{sku:path}")
    async def delete_listings_item(seller_id: str, sku: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "deleteListingsItem")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        if not defer(sbx, sku, "delete", {}):
            apply_write(sbx, sku, "delete", {})
        return JSONResponse(submission(sku, []), headers=headers)

    return r
