"""Product mutation resolvers (productSet, productUpdate, productVariantsBulkUpdate): userErrors for invalid input
(nothing applied), real changes recorded as effects."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

from sandboxes.shopify import db
from sandboxes.shopify.inventory import set_quantities
from sandboxes.shopify.objects import Ctx, product_obj, variant_obj
from sandboxes.shopify.orders import resolve_order_cancel

MAX_VARIANTS = 2048


def _ctx(info: GraphQLResolveInfo) -> Ctx:
    return info.context  # type: ignore[no-any-return]


def money(value: Any) -> Decimal | None:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if d.is_finite() else None


def _product(ctx: Ctx, pid: int) -> dict[str, Any] | None:
    row = ctx.store.one("SELECT * FROM shp_product WHERE id = ?", [pid])
    return product_obj(row) if row else None


# ---- productSet --------------------------------------------------------------------------------------------------
def _variant_errors(ctx: Ctx, inp: dict[str, Any], pid: int | None) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    variants = inp.get("variants")
    if variants is None:
        return errors
    if len(variants) > MAX_VARIANTS:
        return [
            _ue("VARIANTS_OVER_LIMIT", ["input", "variants"], f"Exceeded the {MAX_VARIANTS} variants limit")
        ]
    options = {o.get("name") for o in inp.get("productOptions") or []}
    if variants and not inp.get("productOptions") and pid is None:
        errors.append(
            _ue("PRODUCT_OPTIONS_INPUT_MISSING", ["input", "productOptions"], "Options are required")
        )
    for i, v in enumerate(variants):
        where = ["input", "variants", str(i)]
        for ov in v.get("optionValues") or []:
            if options and ov.get("optionName") not in options:
                errors.append(_ue("OPTION_DOES_NOT_EXIST", [*where, "optionValues"], "Option does not exist"))
        if v.get("price") is not None and (money(v["price"]) is None or money(v["price"]) < 0):  # type: ignore[operator]
            errors.append(
                _ue("INVALID_VARIANT", [*where, "price"], "Price must be greater than or equal to 0")
            )
        if v.get("id") is not None:
            vid = db.parse_gid(v["id"], "ProductVariant")
            row = ctx.store.one("SELECT product_id FROM shp_variant WHERE id = ?", [vid]) if vid else None
            if row is None or row["product_id"] != pid:
                errors.append(_ue("PRODUCT_VARIANT_DOES_NOT_EXIST", [*where, "id"], "Variant does not exist"))
    return errors


def _ue(code: str | None, field: list[str], message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def resolve_product_set(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any], synchronous: bool = True
) -> dict[str, Any]:
    ctx = _ctx(info)
    pid = db.parse_gid(input.get("id"), "Product") if input.get("id") else None
    if input.get("id") and (pid is None or _product(ctx, pid) is None):
        return {
            "product": None,
            "userErrors": [_ue("PRODUCT_DOES_NOT_EXIST", ["input", "id"], "Product does not exist")],
        }
    if (pid is None or "title" in input) and not (input.get("title") or "").strip():
        return {
            "product": None,
            "userErrors": [_ue("INVALID_PRODUCT", ["input", "title"], "Title can't be blank")],
        }
    errors = _variant_errors(ctx, input, pid)
    if errors:
        return {"product": None, "userErrors": errors}
    now = db.now_iso()
    effects: list[tuple[str, str, Any, Any]] = []
    with ctx.store.tx() as c:
        if pid is None:
            pid = db.next_ids(c, "shp_product", 1)[0]
            handle = _unique_handle(c, input.get("handle") or db.slug(input["title"]))
            c.execute(
                "INSERT INTO shp_product(id, title, handle, description_html, vendor, product_type, status, tags,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (pid, input["title"], handle, input.get("descriptionHtml") or "", input.get("vendor") or "",
                 input.get("productType") or "", input.get("status") or "ACTIVE",
                 _tags(input.get("tags")), now, now),
            )  # fmt: skip
        else:
            old = c.execute("SELECT status FROM shp_product WHERE id = ?", (pid,)).fetchone()
            sets = {
                "title": input.get("title"),
                "description_html": input.get("descriptionHtml"),
                "vendor": input.get("vendor"),
                "product_type": input.get("productType"),
                "status": input.get("status"),
                "tags": _tags(input["tags"]) if input.get("tags") is not None else None,
            }
            sets = {k: v for k, v in sets.items() if v is not None}
            if sets:
                cols = ", ".join(f"{k} = ?" for k in sets)
                c.execute(
                    f"UPDATE shp_product SET {cols}, updated_at = ? WHERE id = ?", (*sets.values(), now, pid)
                )
            if input.get("status") and old["status"] != input["status"]:
                for (sku,) in c.execute("SELECT sku FROM shp_variant WHERE product_id = ?", (pid,)):
                    effects.append((sku or f"product:{pid}", "status", old["status"], input["status"]))
        if input.get("variants") is not None:
            effects += _replace_variants(c, pid, input["variants"], now)
    ctx.state.record_effects(effects)
    return {"product": _product(ctx, pid), "userErrors": []}


def _tags(tags: list[str] | None) -> str:
    return json.dumps(sorted(set(tags or [])))


def _unique_handle(c: Any, handle: str) -> str:
    base, n = db.slug(handle), 1
    candidate = base
    while c.execute("SELECT 1 FROM shp_product WHERE handle = ?", (candidate,)).fetchone():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _replace_variants(
    c: Any, pid: int, variants: list[dict[str, Any]], now: str
) -> list[tuple[str, str, Any, Any]]:
    """productSet semantics: listed variants are created or updated, the others deleted."""
    effects: list[tuple[str, str, Any, Any]] = []
    existing = {r["id"]: r for r in c.execute("SELECT * FROM shp_variant WHERE product_id = ?", (pid,))}
    keep: set[int] = set()
    for v in variants:
        price = money(v["price"]) if v.get("price") is not None else None
        sku = v.get("sku") if v.get("sku") is not None else (v.get("inventoryItem") or {}).get("sku")
        title = " / ".join(o.get("name") or "" for o in v.get("optionValues") or []) or "Default Title"
        vid = db.parse_gid(v.get("id"), "ProductVariant") if v.get("id") else None
        if vid is None:
            vid = db.next_ids(c, "shp_variant", 1)[0]
            c.execute(
                "INSERT INTO shp_variant(id, product_id, sku, barcode, price, title, inventory_policy, tracked,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (vid, pid, sku, v.get("barcode"), str(price or Decimal("0.00")), title,
                 v.get("inventoryPolicy") or "DENY", 1, now, now),
            )  # fmt: skip
            qty = _initial_quantity(v)
            c.execute(
                "INSERT INTO shp_level(inventory_item_id, location_id, available, on_hand, updated_at) "
                "VALUES (?,?,?,?,?)",
                (db.item_id(vid), db.LOCATION_ID, qty, qty, now),
            )
            entity = sku or f"variant:{vid}"  # effects are keyed by SKU; a variant may have none
            effects += [
                (entity, "status", None, "ACTIVE"),
                (entity, "price", None, str(price)),
                (entity, "available", None, qty),
            ]
        else:
            old = existing[vid]
            new_price = str(price) if price is not None else old["price"]
            new_sku = sku if sku is not None else old["sku"]
            c.execute(
                "UPDATE shp_variant SET sku = ?, barcode = COALESCE(?, barcode), price = ?, updated_at = ? "
                "WHERE id = ?",
                (new_sku, v.get("barcode"), new_price, now, vid),
            )
            effects.append((new_sku or f"variant:{vid}", "price", old["price"], new_price))
        keep.add(vid)
    for vid, row in existing.items():
        if vid not in keep:
            c.execute("DELETE FROM shp_variant WHERE id = ?", (vid,))
            c.execute("DELETE FROM shp_level WHERE inventory_item_id = ?", (db.item_id(vid),))
            effects.append((row["sku"] or f"variant:{vid}", "status", "ACTIVE", "DELETED"))
    return effects


def _initial_quantity(v: dict[str, Any]) -> int:
    for q in v.get("inventoryQuantities") or []:
        if db.parse_gid(q.get("locationId"), "Location") == db.LOCATION_ID and q.get("name") in (
            "available",
            "on_hand",
        ):
            return max(0, int(q["quantity"]))
    return 0


# ---- productUpdate -----------------------------------------------------------------------------------------------
def resolve_product_update(
    _: Any, info: GraphQLResolveInfo, product: dict[str, Any] | None = None
) -> dict[str, Any]:
    ctx = _ctx(info)
    product = product or {}
    pid = db.parse_gid(product.get("id"), "Product")
    if pid is None or _product(ctx, pid) is None:
        return {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
    if "title" in product and not (product.get("title") or "").strip():
        return {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}
    result = resolve_product_set(None, info, {k: v for k, v in product.items() if k != "handle"})
    return {
        "product": result["product"],
        "userErrors": [{"field": e["field"][1:], "message": e["message"]} for e in result["userErrors"]],
    }


# ---- productVariantsBulkUpdate -------------------------------------------------------------------------------------
def resolve_variants_bulk_update(
    _: Any,
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
) -> dict[str, Any]:
    ctx = _ctx(info)
    pid = db.parse_gid(productId, "Product")
    if pid is None or _product(ctx, pid) is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [_ue("PRODUCT_DOES_NOT_EXIST", ["productId"], "Product does not exist")],
        }
    errors: list[dict[str, Any]] = []
    changes: list[tuple[int, dict[str, Any]]] = []
    for i, v in enumerate(variants):
        where = ["variants", str(i)]
        if not v.get("id"):
            errors.append(
                _ue("PRODUCT_VARIANT_ID_MISSING", [*where, "id"], "Product variant is missing ID attribute")
            )
            continue
        vid = db.parse_gid(v["id"], "ProductVariant")
        row = ctx.store.one("SELECT product_id FROM shp_variant WHERE id = ?", [vid]) if vid else None
        if row is None:
            errors.append(
                _ue("PRODUCT_VARIANT_DOES_NOT_EXIST", [*where, "id"], "Product variant does not exist")
            )
            continue
        if row["product_id"] != pid:
            errors.append(
                _ue("MUST_BE_FOR_THIS_PRODUCT", [*where, "id"], "Product variant is not for this product")
            )
            continue
        if v.get("price") is not None:
            price = money(v["price"])
            if price is None:
                errors.append(_ue("INVALID_INPUT", [*where, "price"], "Price is invalid"))
                continue
            if price < 0:
                errors.append(
                    _ue("NEGATIVE_PRICE_VALUE", [*where, "price"], "Price must be greater than or equal to 0")
                )
                continue
        changes.append((vid, v))  # type: ignore[arg-type]
    if errors and not allowPartialUpdates:
        changes = []
    now, effects = db.now_iso(), []
    with ctx.store.tx() as c:
        for vid, v in changes:
            old = c.execute("SELECT sku, price FROM shp_variant WHERE id = ?", (vid,)).fetchone()
            new_price = str(money(v["price"])) if v.get("price") is not None else old["price"]
            c.execute(
                "UPDATE shp_variant SET price = ?, barcode = COALESCE(?, barcode), updated_at = ? WHERE id = ?",
                (new_price, v.get("barcode"), now, vid),
            )
            effects.append((old["sku"] or f"variant:{vid}", "price", old["price"], new_price))
    ctx.state.record_effects(effects)
    updated = (
        [
            variant_obj(r)
            for r in db.variants_where(
                ctx.store, f"v.id IN ({','.join('?' * len(changes))})", [vid for vid, _ in changes]
            )
        ]
        if changes
        else []
    )
    return {
        "product": _product(ctx, pid),
        "productVariants": updated if changes or not errors else None,
        "userErrors": errors,
    }


def attach(schema: GraphQLSchema) -> None:
    m = schema.mutation_type
    assert m is not None
    m.fields["productSet"].resolve = resolve_product_set
    m.fields["productUpdate"].resolve = resolve_product_update
    m.fields["productVariantsBulkUpdate"].resolve = resolve_variants_bulk_update
    m.fields["inventorySetQuantities"].resolve = set_quantities
    m.fields["orderCancel"].resolve = resolve_order_cancel
