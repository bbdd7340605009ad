"""inventorySetQuantities: absolute quantities with the compareQuantity guard, all or nothing.

Any userError (unknown item, stale compareQuantity, ...) rejects the whole call and applies nothing, each error
pointing at its item by index in `field` (["input", "quantities", "<i>", ...]): clients retry the others.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandboxes.shopify import db
from sandboxes.shopify.objects import Ctx, location_obj
from sandboxes.shopify.webhooks import inventory_level_payload

MAX_QUANTITY = 1_000_000_000
NAMES = ("available", "on_hand")
# shopify.dev "inventory quantities states": the reasons inventorySetQuantities accepts
REASONS = {
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated", "movement_received",
    "movement_canceled", "other", "promotion", "quality_control", "received", "reservation_created",
    "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage",
}  # fmt: skip


def change_item(iid: int, sku: str | None, now: str) -> dict[str, Any]:
    """The InventoryItem of an InventoryChange (its `variant` is resolved on demand, see catalog.resolve_item_variant)."""
    return {"__typename": "InventoryItem", "id": db.gid("InventoryItem", iid), "legacyResourceId": str(iid),
            "_iid": iid, "_levels": None, "sku": sku, "tracked": True, "requiresShipping": True,
            "createdAt": now, "updatedAt": now}  # fmt: skip


def _ue(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def _check(ctx: Ctx, inp: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[int, int, int, Any]]]:
    """Validate everything first. Returns (userErrors, [(index, item_id, quantity, level_row)])."""
    errors: list[dict[str, Any]] = []
    if inp["name"] not in NAMES:
        errors.append(
            _ue(
                "INVALID_NAME",
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
            )
        )
    if inp["reason"] not in REASONS:
        errors.append(_ue("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
    uri = inp.get("referenceDocumentUri")
    if uri is not None and (":" not in uri or not uri.split(":", 1)[1].strip("/")):
        errors.append(
            _ue(
                "INVALID_REFERENCE_DOCUMENT",
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
            )
        )
    quantities = inp["quantities"]
    item_ids = [db.parse_gid(q["inventoryItemId"], "InventoryItem") for q in quantities]
    levels = db.levels_for(ctx.store, [i for i in item_ids if i is not None])
    known = {r["id"] for r in _variants(ctx, [db.variant_id_of_item(i) for i in item_ids if i is not None])}
    seen: set[tuple[int | None, int | None]] = set()
    ok: list[tuple[int, int, int, Any]] = []
    guard = not inp.get("ignoreCompareQuantity")
    for i, q in enumerate(quantities):
        at = ["input", "quantities", str(i)]
        iid, loc = item_ids[i], db.parse_gid(q["locationId"], "Location")
        if iid is None or db.variant_id_of_item(iid) not in known:
            errors.append(
                _ue(
                    "INVALID_INVENTORY_ITEM",
                    [*at, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                )
            )
            continue
        if loc != db.LOCATION_ID:
            errors.append(
                _ue("INVALID_LOCATION", [*at, "locationId"], "The specified location could not be found.")
            )
            continue
        if (iid, loc) in seen:
            errors.append(
                _ue(
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    [*at],
                    "The combination of inventoryItemId and locationId must be unique.",
                )
            )
            continue
        seen.add((iid, loc))
        level = levels.get((iid, loc))
        if level is None:
            errors.append(
                _ue(
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                    [*at, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                )
            )
            continue
        qty = q["quantity"]
        if qty < 0:
            errors.append(
                _ue("INVALID_QUANTITY_NEGATIVE", [*at, "quantity"], "The quantity can't be negative.")
            )
            continue
        if qty > MAX_QUANTITY:
            errors.append(
                _ue(
                    "INVALID_QUANTITY_TOO_HIGH",
                    [*at, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                )
            )
            continue
        if guard:
            compare = q.get("compareQuantity")
            if compare is None:
                errors.append(
                    _ue(
                        "COMPARE_QUANTITY_REQUIRED",
                        [*at, "compareQuantity"],
                        "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                    )
                )
                continue
            if compare != level[inp["name"]]:
                errors.append(
                    _ue(
                        "COMPARE_QUANTITY_STALE",
                        [*at, "compareQuantity"],
                        "The compareQuantity value does not match persisted value.",
                    )
                )
                continue
        ok.append((i, iid, qty, level))
    return errors, ok


def _variants(ctx: Ctx, ids: list[int]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(ids), 900):
        part = ids[i : i + 900]
        out += ctx.store.query(
            f"SELECT id, sku FROM shp_variant WHERE id IN ({','.join('?' * len(part))})", part
        )
    return out


def set_quantities(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: Ctx = info.context
    errors, ok = _check(ctx, input)
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    name, other = input["name"], "on_hand" if input["name"] == "available" else "available"
    skus = {r["id"]: r["sku"] for r in _variants(ctx, [db.variant_id_of_item(iid) for _, iid, _, _ in ok])}
    now = db.now_iso()
    changes, rows, effects, events = [], [], [], []
    for _, iid, qty, level in ok:
        delta = qty - level[name]
        if delta == 0:
            continue
        after = {
            name: qty,
            other: level[other] + delta,
        }  # setting one state moves the other by the same delta
        rows.append((after["available"], after["on_hand"], now, iid, db.LOCATION_ID))
        item = change_item(iid, skus.get(db.variant_id_of_item(iid)), now)
        for n in (name, other):
            changes.append({"name": n, "delta": delta, "quantityAfterChange": after[n], "item": item,
                            "location": location_obj(), "ledgerDocumentUri": None})  # fmt: skip
        sku = skus.get(db.variant_id_of_item(iid))
        effects.append((sku or f"item:{iid}", "available", level["available"], after["available"]))
        events.append(
            ("inventory_levels/update", inventory_level_payload(iid, db.LOCATION_ID, after["available"], now))
        )
    if not rows:
        return {"inventoryAdjustmentGroup": None, "userErrors": []}
    group = commit(ctx, rows, effects, events, changes, input, now)
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def commit(
    ctx: Ctx,
    rows: list[tuple[int, int, str, int, int]],
    effects: list[tuple[str, str, Any, Any]],
    events: list[tuple[str, dict[str, Any]]],
    changes: list[dict[str, Any]],
    input: dict[str, Any],
    now: str,
) -> dict[str, Any]:
    """Write new (available, on_hand) levels in one transaction; returns the InventoryAdjustmentGroup."""
    with ctx.store.tx() as c:
        c.executemany(
            "UPDATE shp_level SET available = ?, on_hand = ?, updated_at = ? WHERE inventory_item_id = ? AND location_id = ?",
            rows,
        )
        seq = (
            int((c.execute("SELECT v FROM sbx_kv WHERE k = 'adjustment_group_seq'").fetchone() or ["0"])[0])
            + 1
        )
        c.execute(
            "INSERT INTO sbx_kv(k, v) VALUES('adjustment_group_seq', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            (str(seq),),
        )
    ctx.state.record_effects(effects)
    if ctx.state.webhook.url:
        ctx.events += events
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": db.gid("InventoryAdjustmentGroup", 30_000_000_000 + seq),
        "createdAt": now,
        "reason": input["reason"],
        "referenceDocumentUri": input.get("referenceDocumentUri"),
        "_changes": changes,
    }
    return group


def resolve_changes(
    group: dict[str, Any],
    info: GraphQLResolveInfo,
    inventoryItemIds: list[str] | None = None,
    locationIds: list[str] | None = None,
    quantityNames: list[str] | None = None,
) -> list[dict[str, Any]]:
    out = group["_changes"]
    if inventoryItemIds is not None:
        out = [c for c in out if c["item"]["id"] in inventoryItemIds]
    if locationIds is not None:
        out = [c for c in out if c["location"]["id"] in locationIds]
    if quantityNames is not None:
        out = [c for c in out if c["name"] in quantityNames]
    return out  # type: ignore[no-any-return]
