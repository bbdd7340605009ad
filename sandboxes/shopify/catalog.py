"""Catalog reads beyond the variant list: products / product, inventoryItems, locations and node roots, and the nested
fields that need the store (a product's totals and its variants page, a variant's quantity, an item's levels).

Each connection pages with opaque cursors on (sort value, id) like the other roots; searches use Shopify's syntax
(objects.parse_search), fields it does not know match nothing.
"""

from __future__ import annotations

from typing import Any, cast

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from sandboxes.shopify import db
from sandboxes.shopify.objects import (
    Ctx,
    connection,
    level_obj,
    location_obj,
    page_args,
    parse_search,
    product_obj,
    search_sql,
    variant_obj,
)
from sandboxes.shopify.queries import gid_int, keyset, resolve_nodes, utc_text, variant_by_id

# a product's total across its variants and the location (INVENTORY_TOTAL sorts on it too)
TOTAL_SQL = (
    "(SELECT COALESCE(SUM(l.available), 0) FROM shp_variant tv JOIN shp_level l "
    f"ON l.inventory_item_id = tv.id + {db.INVENTORY_ITEM_OFFSET} WHERE tv.product_id = p.id)"
)
PRODUCT_SORT = {
    "TITLE": "p.title",
    "UPDATED_AT": "p.updated_at",
    "CREATED_AT": "p.created_at",
    "PUBLISHED_AT": "p.created_at",  # sandbox products are published when created
    "PRODUCT_TYPE": "p.product_type",
    "VENDOR": "p.vendor",
    "INVENTORY_TOTAL": TOTAL_SQL,
}
PRODUCT_SEARCH = {
    "title": "p.title",
    "handle": "p.handle",
    "vendor": "p.vendor",
    "product_type": "p.product_type",
    "status": "p.status",
    "tag": "p.tags",
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
    "id": "p.id",
    "sku": "p.id IN (SELECT product_id FROM shp_variant WHERE sku {op} ?)",
    "barcode": "p.id IN (SELECT product_id FROM shp_variant WHERE barcode {op} ?)",
}
ITEM_SEARCH = {"sku": "v.sku", "id": f"v.id + {db.INVENTORY_ITEM_OFFSET}", "created_at": "v.created_at",
               "updated_at": "v.updated_at"}  # fmt: skip


def _ctx(info: GraphQLResolveInfo) -> Ctx:
    return info.context  # type: ignore[no-any-return]


def resolve_product(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    pid = db.parse_gid(id, "Product")
    row = _ctx(info).store.one("SELECT * FROM shp_product WHERE id = ?", [pid]) if pid else None
    return product_obj(row) if row else None


def resolve_products(
    _: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    sortKey: str = "ID",
    query: str | None = None,
    **_kw: Any,
) -> dict[str, Any]:
    size = page_args(first, last)
    value_col = PRODUCT_SORT.get(sortKey)
    where, params, order = keyset(after, before, reverse, "p.id", value_col)
    search, sparams = search_sql(
        parse_search(query),
        PRODUCT_SEARCH,
        {
            "status": str.upper,
            "tag": lambda t: f'%"{t}"%',
            "created_at": utc_text,
            "updated_at": utc_text,
            "id": gid_int("Product"),
        },
    )
    search = search.replace("p.tags = ?", "p.tags LIKE ?")
    rows = _ctx(info).store.query(
        f"SELECT p.*, {value_col or 'p.id'} AS sort_value FROM shp_product p WHERE {where} AND {search} "
        f"ORDER BY {order} LIMIT ?",
        [*params, *sparams, size + 1],
    )
    objs = [{**product_obj(r), "_sort": r["sort_value"]} for r in rows[:size]]
    return connection(
        objs,
        has_next=len(rows) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_pid"], o["_sort"] if value_col else None),
    )


def resolve_inventory_items(
    _: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    query: str | None = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    size = page_args(first, last)
    where, params, order = keyset(after, before, reverse, "v.id", None)
    search, sparams = search_sql(
        parse_search(query),
        ITEM_SEARCH,
        {"id": gid_int("InventoryItem"), "created_at": utc_text, "updated_at": utc_text},
    )
    rows = db.variants_where(
        ctx.store, f"{where} AND {search}", [*params, *sparams], order=order, limit=size + 1
    )
    rows = rows[: size + 1]
    levels = db.levels_for(ctx.store, [db.item_id(r["id"]) for r in rows[:size]])
    items = [variant_obj(r, levels)["inventoryItem"] for r in rows[:size]]
    return connection(
        items,
        has_next=len(rows) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(db.variant_id_of_item(o["_iid"])),
    )


def resolve_locations(
    _: Any, info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, last: int | None = None,
    **_kw: Any,
) -> dict[str, Any]:  # fmt: skip
    """The demo shop has one location."""
    size = page_args(first, last)
    objs = [location_obj()] if size and after is None else []
    return connection(
        objs,
        has_next=False,
        has_previous=after is not None,
        cursor=lambda _o: db.encode_cursor(db.LOCATION_ID),
    )


def resolve_node(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    return resolve_nodes(None, info, [id])[0]


# ---- nested fields -----------------------------------------------------------------------------------------------
def _levels_of_item(ctx: Ctx, item: dict[str, Any]) -> list[Any]:
    levels = item.get("_levels")
    if levels is None:
        found = db.levels_for(ctx.store, [item["_iid"]])
        levels = {lo: lv for (_, lo), lv in found.items()}
    return [levels[k] for k in sorted(levels)]


def resolve_inventory_quantity(variant: dict[str, Any], info: GraphQLResolveInfo) -> int:
    """Available units across locations, however the variant was reached (a list page or productVariant(id))."""
    return sum(lv["available"] for lv in _levels_of_item(_ctx(info), variant["inventoryItem"]))


def resolve_available_for_sale(variant: dict[str, Any], info: GraphQLResolveInfo) -> bool:
    if variant["product"]["status"] != "ACTIVE":
        return False
    return variant["inventoryPolicy"] == "CONTINUE" or resolve_inventory_quantity(variant, info) > 0


def resolve_item_levels(item: dict[str, Any], info: GraphQLResolveInfo, first: int | None = None,
                        last: int | None = None, after: str | None = None, **_kw: Any) -> dict[str, Any]:  # fmt: skip
    size = page_args(first, last)
    start = (db.decode_cursor(after) or {}).get("last_id", 0)
    levels = [lv for lv in _levels_of_item(_ctx(info), item) if lv["location_id"] > start]
    objs = [level_obj(lv) for lv in levels[:size]]
    return connection(
        objs,
        has_next=len(levels) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_row"]["location_id"]),
    )


def resolve_item_variant(item: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    return item.get("variant") or variant_by_id(_ctx(info), db.variant_id_of_item(item["_iid"]))


def resolve_location_level(_loc: dict[str, Any], info: GraphQLResolveInfo, inventoryItemId: str) -> Any:
    iid = db.parse_gid(inventoryItemId, "InventoryItem")
    row = _ctx(info).store.one(
        "SELECT * FROM shp_level WHERE inventory_item_id = ? AND location_id = ?", [iid, db.LOCATION_ID]
    )
    return level_obj(row) if row else None


def resolve_location_levels(_loc: dict[str, Any], info: GraphQLResolveInfo, first: int | None = None,
                            last: int | None = None, after: str | None = None, **_kw: Any) -> dict[str, Any]:  # fmt: skip
    size = page_args(first, last)
    start = (db.decode_cursor(after) or {}).get("last_id", 0)
    rows = _ctx(info).store.query(
        "SELECT * FROM shp_level WHERE location_id = ? AND inventory_item_id > ? ORDER BY inventory_item_id LIMIT ?",
        [db.LOCATION_ID, start, size + 1],
    )
    return connection(
        [level_obj(r) for r in rows[:size]],
        has_next=len(rows) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_item_id"]),
    )


def resolve_product_totals(field: str) -> Any:
    def resolve(product: dict[str, Any], info: GraphQLResolveInfo) -> Any:
        row = _ctx(info).store.one(
            f"SELECT {TOTAL_SQL} AS total, (SELECT COUNT(*) FROM shp_variant WHERE product_id = p.id) AS n, "
            "(SELECT COUNT(*) FROM shp_variant WHERE product_id = p.id AND tracked = 1) AS tracked "
            "FROM shp_product p WHERE p.id = ?",
            [product["_pid"]],
        )
        assert row is not None
        return {
            "totalInventory": row["total"],
            "tracksInventory": row["tracked"] > 0,
            "hasOnlyDefaultVariant": row["n"] == 1,
        }[field]

    return resolve


def resolve_product_variants_field(
    product: dict[str, Any],
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    sortKey: str = "ID",
) -> dict[str, Any]:
    """A product's variants, paged with cursors like every connection."""
    ctx = _ctx(info)
    size = page_args(first, last)
    value_col = {"SKU": "v.sku", "TITLE": "v.title"}.get(sortKey)
    where, params, order = keyset(after, before, reverse, "v.id", value_col)
    rows = db.variants_where(
        ctx.store, f"v.product_id = ? AND {where}", [product["_pid"], *params], order=order, limit=size + 1
    )
    levels = db.levels_for(ctx.store, [db.item_id(r["id"]) for r in rows[:size]])
    objs = [variant_obj(r, levels) for r in rows[:size]]
    key = {"SKU": "sku", "TITLE": "title"}.get(sortKey)
    return connection(
        objs,
        has_next=len(rows) > size,
        has_previous=after is not None,
        cursor=lambda o: db.encode_cursor(o["_vid"], o.get(key) if key else None),
    )


def attach(schema: GraphQLSchema) -> None:
    q = schema.query_type
    assert q is not None
    for name, fn in {
        "product": resolve_product,
        "products": resolve_products,
        "inventoryItems": resolve_inventory_items,
        "locations": resolve_locations,
        "node": resolve_node,
    }.items():
        q.fields[name].resolve = fn
    t = cast(dict[str, GraphQLObjectType], schema.type_map)
    t["ProductVariant"].fields["inventoryQuantity"].resolve = resolve_inventory_quantity
    t["ProductVariant"].fields["availableForSale"].resolve = resolve_available_for_sale
    t["InventoryItem"].fields["inventoryLevels"].resolve = resolve_item_levels
    t["InventoryItem"].fields["variant"].resolve = resolve_item_variant
    t["Location"].fields["inventoryLevel"].resolve = resolve_location_level
    t["Location"].fields["inventoryLevels"].resolve = resolve_location_levels
    t["Product"].fields["variants"].resolve = resolve_product_variants_field
    for field in ("totalInventory", "tracksInventory", "hasOnlyDefaultVariant"):
        t["Product"].fields[field].resolve = resolve_product_totals(field)
