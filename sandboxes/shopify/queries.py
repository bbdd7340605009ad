"""Query resolvers of the sandbox shop (QueryRoot and the nested fields that need the store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from sandboxes.shopify import db
from sandboxes.shopify.objects import (
    Ctx,
    connection,
    level_obj,
    line_obj,
    location_obj,
    order_obj,
    page_args,
    parse_search,
    product_obj,
    quantities,
    search_sql,
    variant_obj,
)

VARIANT_SEARCH = {
    "sku": "v.sku",
    "barcode": "v.barcode",
    "product_id": "v.product_id",
    "id": "v.id",
    "title": "p.title",
    "product_status": "p.status",
    "updated_at": "v.updated_at",
}
ORDER_SEARCH = {
    "updated_at": "o.updated_at",
    "created_at": "o.created_at",
    "id": "o.id",
    "name": "o.name",
    "source_identifier": "o.source_identifier",
}


def _ctx(info: GraphQLResolveInfo) -> Ctx:
    return info.context  # type: ignore[no-any-return]


def utc_text(value: str) -> str:
    """Search times may be dates or times with any offset; stored times are UTC with second precision (sort as text)."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"Invalid time in search query: {value}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def gid_int(kind: str) -> Any:
    def parse(value: str) -> int:
        if value.isdigit():
            return int(value)
        parsed = db.parse_gid(value, kind)
        return parsed if parsed is not None else -1

    return parse


# ---- root fields -------------------------------------------------------------------------------------------------
def resolve_shop(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": "gid://shopify/Shop/55512345678",
        "name": db.SHOP_NAME,
        "myshopifyDomain": db.SHOP_DOMAIN,
        "currencyCode": db.SHOP_CURRENCY,
    }


def resolve_location(_: Any, info: GraphQLResolveInfo, id: str | None = None) -> dict[str, Any] | None:
    # without an id: the shop's primary location
    return location_obj() if id in (None, db.LOCATION_GID) else None


def variant_by_id(ctx: Ctx, vid: int | None) -> dict[str, Any] | None:
    if vid is None:
        return None
    rows = db.variants_where(ctx.store, "v.id = ?", [vid])
    return variant_obj(rows[0]) if rows else None


def resolve_product_variant(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    return variant_by_id(_ctx(info), db.parse_gid(id, "ProductVariant"))


def resolve_inventory_item(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    iid = db.parse_gid(id, "InventoryItem")
    v = variant_by_id(_ctx(info), db.variant_id_of_item(iid) if iid else None)
    return v["inventoryItem"] if v else None


def resolve_order(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    oid = db.parse_gid(id, "Order")
    row = _ctx(info).store.one("SELECT * FROM shp_order WHERE id = ?", [oid]) if oid else None
    return order_obj(row) if row else None


def resolve_nodes(_: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
    ctx = _ctx(info)
    out: list[dict[str, Any] | None] = []
    for g in ids:
        if db.parse_gid(g, "InventoryItem") is not None:
            out.append(resolve_inventory_item(None, info, g))
        elif db.parse_gid(g, "ProductVariant") is not None:
            out.append(resolve_product_variant(None, info, g))
        elif db.parse_gid(g, "Order") is not None:
            out.append(resolve_order(None, info, g))
        elif (pid := db.parse_gid(g, "Product")) is not None:
            row = ctx.store.one("SELECT * FROM shp_product WHERE id = ?", [pid])
            out.append(product_obj(row) if row else None)
        elif g == db.LOCATION_GID:
            out.append(location_obj())
        else:
            out.append(None)
    return out


def keyset(
    after: str | None, before: str | None, reverse: bool, id_col: str, value_col: str | None
) -> tuple[str, list[Any], str]:
    """Cursor paging on (sort value, id); `before` pages backwards."""
    direction = "DESC" if reverse else "ASC"
    order = f"{value_col} {direction}, {id_col} {direction}" if value_col else f"{id_col} {direction}"
    where, params = "1 = 1", []
    for cur, forward in ((db.decode_cursor(after), True), (db.decode_cursor(before), False)):
        if cur is None:
            continue
        op = ">" if forward != reverse else "<"
        if value_col:
            where += f" AND ({value_col} {op} ? OR ({value_col} = ? AND {id_col} {op} ?))"
            params += [cur.get("last_value"), cur.get("last_value"), cur["last_id"]]
        else:
            where += f" AND {id_col} {op} ?"
            params.append(cur["last_id"])
    return where, params, order


def resolve_product_variants(
    _: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    sortKey: str = "ID",
    query: str | None = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    size = page_args(first, last)
    value_col = {"SKU": "v.sku", "TITLE": "p.title"}.get(sortKey)
    where, params, order = keyset(after, before, reverse, "v.id", value_col)
    search, sparams = search_sql(
        parse_search(query),
        VARIANT_SEARCH,
        {"product_id": gid_int("Product"), "id": gid_int("ProductVariant")},
    )
    rows = db.variants_where(
        ctx.store, f"{where} AND {search}", [*params, *sparams], order=order, limit=size + 1
    )
    has_more = len(rows) > size
    rows = rows[:size]
    levels = db.levels_for(ctx.store, [db.item_id(r["id"]) for r in rows])
    objs = [variant_obj(r, levels) for r in rows]
    key = {"SKU": "sku", "TITLE": None}.get(sortKey)
    return connection(
        objs,
        has_next=has_more,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_vid"], o.get(key) if key else None),
    )


def resolve_orders(
    _: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    sortKey: str = "ID",
    query: str | None = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    size = page_args(first, last)
    col = {"UPDATED_AT": "o.updated_at", "CREATED_AT": "o.created_at"}.get(sortKey)
    where, params, order = keyset(after, before, reverse, "o.id", col)
    search, sparams = search_sql(
        parse_search(query),
        ORDER_SEARCH,
        {"updated_at": utc_text, "created_at": utc_text, "id": gid_int("Order")},
    )
    rows = ctx.store.query(
        f"SELECT * FROM shp_order o WHERE {where} AND {search} ORDER BY {order} LIMIT ?",
        [*params, *sparams, size + 1],
    )
    objs = [order_obj(r) for r in rows[:size]]
    field = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt"}.get(sortKey)
    return connection(
        objs,
        has_next=len(rows) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_oid"], o[field] if field else None),
    )


# ---- nested fields -----------------------------------------------------------------------------------------------
def resolve_inventory_level(item: dict[str, Any], info: GraphQLResolveInfo, locationId: str) -> Any:
    loc = db.parse_gid(locationId, "Location")
    levels = item.get("_levels")
    if levels is None:
        found = db.levels_for(_ctx(info).store, [item["_iid"]])
        levels = {lo: lv for (_, lo), lv in found.items()}
    row = levels.get(loc) if loc is not None else None
    return level_obj(row) if row is not None else None


def resolve_quantities(level: dict[str, Any], info: GraphQLResolveInfo, names: list[str]) -> Any:
    return quantities(level, names)


def resolve_level_item(level: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    v = variant_by_id(_ctx(info), db.variant_id_of_item(level["_item_id"]))
    return v["inventoryItem"] if v else None


def resolve_variants_count(product: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, int]:
    row = _ctx(info).store.one(
        "SELECT COUNT(*) AS n FROM shp_variant WHERE product_id = ?", [product["_pid"]]
    )
    return {"count": row["n"] if row else 0}


def resolve_line_items(
    order: dict[str, Any],
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    size = page_args(first, last)
    cur = db.decode_cursor(after)
    rows = _ctx(info).store.query(
        "SELECT * FROM shp_line WHERE order_id = ? AND id > ? ORDER BY id LIMIT ?",
        [order["_oid"], cur["last_id"] if cur else 0, size + 1],
    )
    objs = [line_obj(r, order["currencyCode"]) for r in rows[:size]]
    return connection(
        objs,
        has_next=len(rows) > size,
        has_previous=cur is not None,
        cursor=lambda o: db.encode_cursor(db.parse_gid(o["id"], "LineItem") or 0),
    )


def resolve_line_variant(line: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    return variant_by_id(_ctx(info), line["_vid"])


def attach(schema: GraphQLSchema) -> None:
    q = schema.query_type
    assert q is not None
    for name, fn in {
        "shop": resolve_shop,
        "location": resolve_location,
        "nodes": resolve_nodes,
        "inventoryItem": resolve_inventory_item,
        "productVariant": resolve_product_variant,
        "productVariants": resolve_product_variants,
        "order": resolve_order,
        "orders": resolve_orders,
    }.items():
        q.fields[name].resolve = fn
    t = cast(dict[str, GraphQLObjectType], schema.type_map)
    t["InventoryItem"].fields["inventoryLevel"].resolve = resolve_inventory_level
    t["InventoryLevel"].fields["quantities"].resolve = resolve_quantities
    t["InventoryLevel"].fields["item"].resolve = resolve_level_item
    t["Product"].fields["variantsCount"].resolve = resolve_variants_count
    t["Order"].fields["lineItems"].resolve = resolve_line_items
    t["LineItem"].fields["variant"].resolve = resolve_line_variant
