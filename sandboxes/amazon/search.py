"""searchListingsItems (Listings Items 2021-08-01): every filter the model defines, sorting and pageToken paging.

Statuses follow the summaries the sandbox renders: every live listing is DISCOVERABLE; it is BUYABLE too when it has
a price and a quantity above 0. Sandbox listings carry no issues, so `withIssueSeverity` selects nothing, and no
package hierarchy, so `packageHierarchySku` selects nothing either. Several values of `withStatus` select items with
any of them; `withoutStatus` drops items with any of them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param, parse_iso
from sandboxes.amazon.items import render_item
from sandboxes.amazon.pending import apply_due_writes
from sandboxes.amazon.store import LISTING_COLUMNS

BASE = "/listings/2021-08-01/items"
SORT_COLUMNS = {"sku": "sku", "createdDate": "created_at", "lastUpdatedDate": "updated_at"}
# The SQL twin of the summaries' status in items.render_item.
STATUS_SQL = {"BUYABLE": "(price IS NOT NULL AND quantity > 0)", "DISCOVERABLE": "1"}
IDENTIFIER_TYPES = ("ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
SEVERITIES = ("WARNING", "ERROR")
INCLUDED_DATA = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)
DATE_FILTERS = {
    "createdAfter": "created_at >= ?",
    "createdBefore": "created_at <= ?",
    "lastUpdatedAfter": "updated_at >= ?",
    "lastUpdatedBefore": "updated_at <= ?",
}
MAX_IDENTIFIERS = 20
MAX_PAGE_SIZE = 20


def _bad(message: str) -> SpApiError:
    return SpApiError(400, "InvalidInput", message)


def _enum_list(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = csv_param(request, name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _bad(f"Invalid '{name}' value(s): {','.join(unknown)}. Allowed: {','.join(allowed)}.")
    return values


def _identifier_filter(request: Request) -> tuple[list[str], list[Any]]:
    q = request.query_params
    identifiers = csv_param(request, "identifiers")
    id_type = q.get("identifiersType")
    if bool(identifiers) != bool(id_type):
        raise _bad("'identifiers' and 'identifiersType' must be given together.")
    if not identifiers:
        return [], []
    if q.get("variationParentSku") or q.get("packageHierarchySku"):
        raise _bad("'identifiers' cannot be combined with 'variationParentSku' or 'packageHierarchySku'.")
    if id_type not in IDENTIFIER_TYPES:
        raise _bad(f"Invalid 'identifiersType' '{id_type}'.")
    if len(identifiers) > MAX_IDENTIFIERS:
        raise _bad(f"At most {MAX_IDENTIFIERS} 'identifiers' are allowed.")
    marks = ",".join("?" * len(identifiers))
    if id_type in ("SKU", "ASIN"):
        return [f"{id_type.lower()} IN ({marks})"], list(identifiers)
    if id_type in ("FNSKU", "MINSAN"):  # the sandbox assigns neither
        return ["0"], []
    return [f"asin IN (SELECT asin FROM az_identifier WHERE id_type = ? AND value IN ({marks}))"], [
        id_type.lower(),
        *identifiers,
    ]


def search_filter(request: Request) -> tuple[list[str], list[Any]]:
    """WHERE clauses and parameters for every filter of searchListingsItems; 400 InvalidInput for bad values."""
    q = request.query_params
    where, params = _identifier_filter(request)
    where = ["deleted = 0", *where]
    if q.get("variationParentSku") and q.get("packageHierarchySku"):
        raise _bad("'variationParentSku' cannot be combined with 'packageHierarchySku'.")
    if q.get("variationParentSku"):
        where.append("json_extract(attributes, '$.child_parent_sku_relationship[0].parent_sku') = ?")
        params.append(q["variationParentSku"])
    if q.get("packageHierarchySku"):
        where.append("0")
    for name, clause in DATE_FILTERS.items():
        if q.get(name):
            where.append(clause)
            params.append(parse_iso(q[name]))
    with_status = _enum_list(request, "withStatus", tuple(STATUS_SQL))
    if with_status:
        where.append("(" + " OR ".join(STATUS_SQL[s] for s in with_status) + ")")
    for status in _enum_list(request, "withoutStatus", tuple(STATUS_SQL)):
        where.append(f"NOT {STATUS_SQL[status]}")
    if _enum_list(request, "withIssueSeverity", SEVERITIES):
        where.append("0")  # sandbox listings have no issues
    return where, params


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Listings Items 2021-08-01"])
    store = sbx.state.store

    @r.get(BASE + "/{seller_id}")
    async def search_listings_items(seller_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "searchListingsItems")
        sbx.check_seller(seller_id)
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        apply_due_writes(sbx)
        q = request.query_params
        try:
            page_size = int(q.get("pageSize", "10"))
        except ValueError:
            page_size = 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _bad(f"'pageSize' must be between 1 and {MAX_PAGE_SIZE}.")
        sort_col = SORT_COLUMNS.get(q.get("sortBy", "lastUpdatedDate"))
        order = q.get("sortOrder", "DESC")
        if sort_col is None or order not in ("ASC", "DESC"):
            raise _bad("Invalid 'sortBy' or 'sortOrder'.")
        included = _enum_list(request, "includedData", INCLUDED_DATA) or ["summaries"]
        where, params = search_filter(request)
        count_row = store.one(f"SELECT COUNT(*) AS n FROM az_listing WHERE {' AND '.join(where)}", params)
        total = count_row["n"] if count_row else 0
        token = q.get("pageToken")
        if token:
            key = _decode_token(token)
            cmp = ">" if order == "ASC" else "<"
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
    raise _bad("Invalid 'pageToken'.")
