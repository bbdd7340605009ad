"""Rows -> GraphQL objects (plain dicts carrying `__typename`), connections and the search-query syntax."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from sandboxes.common.state import SandboxState
from sandboxes.common.store import SandboxStore
from sandboxes.shopify import db

MAX_PAGE = 250
QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock")


@dataclass
class Ctx:
    """Per-request execution context: the store, the sandbox state, and webhooks to send once the request is done."""

    store: SandboxStore
    state: SandboxState
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


LOCATION_CREATED_AT = "2024-01-15T09:00:00Z"


def location_obj() -> dict[str, Any]:
    return {
        "__typename": "Location",
        "id": db.LOCATION_GID,
        "legacyResourceId": str(db.LOCATION_ID),
        "name": db.LOCATION_NAME,
        "isActive": True,
        "fulfillsOnlineOrders": True,
        "hasActiveInventory": True,
        "createdAt": LOCATION_CREATED_AT,
        "updatedAt": LOCATION_CREATED_AT,
    }


def product_obj(row: sqlite3.Row, prefix: str = "") -> dict[str, Any]:
    """From a shp_product row, or a variant row joined with its product (`prefix` = product_ for the clashes)."""
    pid = row["product_id"] if prefix else row["id"]
    return {
        "__typename": "Product",
        "id": db.gid("Product", pid),
        "legacyResourceId": str(pid),
        "_pid": pid,
        "title": row["product_title"] if prefix else row["title"],
        "handle": row["handle"],
        "descriptionHtml": row["description_html"],
        "vendor": row["vendor"],
        "productType": row["product_type"],
        "status": row["status"],
        "tags": json.loads(row["tags"] or "[]"),
        "createdAt": row[f"{prefix}created_at"],
        "updatedAt": row[f"{prefix}updated_at"],
    }


def level_obj(level: sqlite3.Row) -> dict[str, Any]:
    item, loc = level["inventory_item_id"], level["location_id"]
    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{loc}?inventory_item_id={item}",
        "_item_id": item,
        "_row": level,
        "location": location_obj(),
        "updatedAt": level["updated_at"],
    }


def quantities(level: dict[str, Any], names: Sequence[str]) -> list[dict[str, Any]]:
    row = level["_row"]
    values = {"available": row["available"], "on_hand": row["on_hand"]}
    values["committed"] = values["reserved"] = 0
    loc, item = row["location_id"], row["inventory_item_id"]
    return [
        {
            "__typename": "InventoryQuantity",
            "id": f"gid://shopify/InventoryQuantity/{loc}?inventory_item_id={item}&name={n}",
            "name": n,
            "quantity": int(values.get(n, 0)),
            "updatedAt": row["updated_at"],
        }
        for n in names
        if n in QUANTITY_NAMES
    ]


def variant_obj(row: sqlite3.Row, levels: dict[tuple[int, int], sqlite3.Row] | None = None) -> dict[str, Any]:
    vid = row["id"]
    iid = db.item_id(vid)
    mine = None if levels is None else {loc: lv for (it, loc), lv in levels.items() if it == iid}
    variant: dict[str, Any] = {
        "__typename": "ProductVariant",
        "id": db.gid("ProductVariant", vid),
        "legacyResourceId": str(vid),
        "displayName": f"{row['product_title']} - {row['title']}",
        "_vid": vid,
        "sku": row["sku"],
        "barcode": row["barcode"],
        "price": row["price"],
        "title": row["title"],
        "inventoryPolicy": row["inventory_policy"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "product": product_obj(row, prefix="product_"),
    }
    variant["inventoryItem"] = {
        "__typename": "InventoryItem",
        "id": db.gid("InventoryItem", iid),
        "legacyResourceId": str(iid),
        "_iid": iid,
        "_levels": mine,
        "sku": row["sku"],
        "tracked": bool(row["tracked"]),
        "requiresShipping": True,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "variant": variant,
    }
    return variant


def order_obj(row: sqlite3.Row) -> dict[str, Any]:
    total = {"amount": row["total"], "currencyCode": row["currency"]}
    return {
        "__typename": "Order",
        "id": db.gid("Order", row["id"]),
        "_oid": row["id"],
        "name": row["name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "cancelledAt": row["cancelled_at"],
        "cancelReason": row["cancel_reason"],
        "closed": False,
        "currencyCode": row["currency"],
        "displayFinancialStatus": row["financial_status"],
        "displayFulfillmentStatus": row["fulfillment_status"],
        "sourceIdentifier": row["source_identifier"],
        "totalPriceSet": {"shopMoney": total, "presentmentMoney": total},
    }


def line_obj(row: sqlite3.Row, currency: str) -> dict[str, Any]:
    money = {"amount": row["price"], "currencyCode": currency}
    return {
        "__typename": "LineItem",
        "id": db.gid("LineItem", row["id"]),
        "_vid": row["variant_id"],
        "sku": row["sku"],
        "title": row["title"],
        "quantity": row["quantity"],
        "currentQuantity": row["current_quantity"],
        "originalUnitPriceSet": {"shopMoney": money, "presentmentMoney": money},
    }


# ---- connections -------------------------------------------------------------------------------------------------
def page_args(first: int | None, last: int | None) -> int:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    size = first if first is not None else last
    assert size is not None
    if size < 0 or size > MAX_PAGE:
        raise GraphQLError(f"The first and last arguments must be between 0 and {MAX_PAGE}")
    return size


def connection(
    objs: list[dict[str, Any]], *, has_next: bool, has_previous: bool, cursor: Callable[[dict[str, Any]], str]
) -> dict[str, Any]:
    cursors = [cursor(o) for o in objs]
    return {
        "edges": [{"cursor": c, "node": o} for c, o in zip(cursors, objs, strict=True)],
        "nodes": objs,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


# ---- search syntax ---------------------------------------------------------------------------------------------
_TERM = re.compile(r"""(-)?(\w+):(>=|<=|>|<)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s()]+)""")


def parse_search(query: str | None) -> list[list[tuple[str, str, str]]]:
    """`sku:A OR sku:"B C"`, `updated_at:>'2025-01-01T00:00:00Z'` -> OR-groups of AND-ed (field, op, value)."""
    if not query or not query.strip():
        return []
    groups: list[list[tuple[str, str, str]]] = []
    for part in re.split(r"\s+OR\s+", query.strip()):
        terms = []
        for m in _TERM.finditer(part):
            value = m.group(4)
            if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            terms.append((m.group(2).lower(), m.group(3) or "=", value))
        if terms:
            groups.append(terms)
    return groups


def search_sql(
    groups: list[list[tuple[str, str, str]]],
    columns: dict[str, str],
    normalise: dict[str, Callable[[str], Any]],
) -> tuple[str, list[Any]]:
    """Turn parsed search groups into SQL; unknown fields match nothing, like a filter Shopify ignores would not."""
    if not groups:
        return "1 = 1", []
    ors, params = [], []
    for terms in groups:
        ands = []
        for fname, op, value in terms:
            col = columns.get(fname)
            if col is None:
                ands.append("0 = 1")
                continue
            # a column, or a template with the operator's place when the field lives elsewhere (a subquery)
            ands.append(col.format(op=op) if "{op}" in col else f"{col} {op} ?")
            params.append(normalise.get(fname, str)(value))
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params
