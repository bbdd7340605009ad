"""inventoryAdjustQuantities: relative changes (deltas), all or nothing, with Shopify's userErrors.

Adjusting `available` moves `on_hand` by the same delta (and the other way round), as on a real shop. The sandbox
tracks those two quantity names only; the others (damaged, safety_stock, ...) are refused with
INVALID_QUANTITY_NAME. A delta is applied to the level as it is when the mutation runs: unlike
inventorySetQuantities there is no compare-and-set, so a retried adjustment whose first answer was lost counts twice.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

from sandboxes.shopify import db
from sandboxes.shopify.inventory import REASONS, change_item, commit
from sandboxes.shopify.objects import Ctx, location_obj
from sandboxes.shopify.webhooks import inventory_level_payload

NAMES = ("available", "on_hand")
LIMIT = 2_000_000_000


def _ue(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def _document_errors(inp: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if inp["name"] not in NAMES:
        errors.append(
            _ue("INVALID_QUANTITY_NAME", ["input", "name"], "The specified quantity name is invalid.")
        )
    if inp["reason"] not in REASONS:
        errors.append(_ue("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
    uri = inp.get("referenceDocumentUri")
    if uri is not None and (":" not in uri or not uri.split(":", 1)[1].strip("/")):
        errors.append(
            _ue("INVALID_REFERENCE_DOCUMENT", ["input", "referenceDocumentUri"], "The specified reference document is invalid.")
        )  # fmt: skip
    for i, change in enumerate(inp["changes"]):
        at = ["input", "changes", str(i), "ledgerDocumentUri"]
        ledger = change.get("ledgerDocumentUri")
        if inp["name"] == "available" and ledger is not None:
            errors.append(_ue("INVALID_AVAILABLE_DOCUMENT", at, "A ledger document URI is not allowed when adjusting available."))  # fmt: skip
        elif inp["name"] != "available" and not ledger:
            errors.append(_ue("INVALID_QUANTITY_DOCUMENT", at, "A ledger document URI is required except when adjusting available."))  # fmt: skip
        elif ledger and ledger.startswith("gid://shopify/"):
            errors.append(_ue("INTERNAL_LEDGER_DOCUMENT", at, "Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API."))  # fmt: skip
    return errors


def adjust_quantities(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: Ctx = info.context
    errors = _document_errors(input)
    name = input["name"]
    other = "on_hand" if name == "available" else "available"
    item_ids = [db.parse_gid(c["inventoryItemId"], "InventoryItem") for c in input["changes"]]
    levels = db.levels_for(ctx.store, [i for i in item_ids if i is not None])
    rows_by_id = {
        r["id"]: r
        for r in db.variants_where(
            ctx.store,
            f"v.id IN ({','.join('?' * len(item_ids)) or 'NULL'})",
            [db.variant_id_of_item(i) if i is not None else -1 for i in item_ids],
        )
    }
    # running levels: several changes to one item add up, in order
    working = {key: {"available": lv["available"], "on_hand": lv["on_hand"]} for key, lv in levels.items()}
    changes: list[dict[str, Any]] = []
    touched: dict[tuple[int, int], dict[str, int]] = {}
    now = db.now_iso()
    for i, change in enumerate(input["changes"]):
        at = ["input", "changes", str(i)]
        iid, loc = item_ids[i], db.parse_gid(change["locationId"], "Location")
        if iid is None or db.variant_id_of_item(iid) not in rows_by_id:
            errors.append(_ue("INVALID_INVENTORY_ITEM", [*at, "inventoryItemId"], "The specified inventory item could not be found."))  # fmt: skip
            continue
        if loc != db.LOCATION_ID:
            errors.append(
                _ue("INVALID_LOCATION", [*at, "locationId"], "The specified location could not be found.")
            )
            continue
        level = working.get((iid, loc))
        if level is None:
            errors.append(_ue("ITEM_NOT_STOCKED_AT_LOCATION", [*at, "locationId"], "The inventory item is not stocked at the location."))  # fmt: skip
            continue
        delta = change["delta"]
        if name in NAMES and not -LIMIT <= level[name] + delta <= LIMIT:
            code = "INVALID_QUANTITY_TOO_HIGH" if delta > 0 else "INVALID_QUANTITY_TOO_LOW"
            errors.append(_ue(code, [*at, "delta"], "The quantity can't be higher than 2,000,000,000 or lower than -2,000,000,000."))  # fmt: skip
            continue
        if errors or name not in NAMES:
            continue
        level[name] += delta
        level[other] += delta
        touched[(iid, loc)] = level
        item = change_item(iid, rows_by_id[db.variant_id_of_item(iid)]["sku"], now)
        for n in (name, other):
            changes.append({"name": n, "delta": delta, "quantityAfterChange": level[n], "item": item,
                            "location": location_obj(), "ledgerDocumentUri": change.get("ledgerDocumentUri")})  # fmt: skip
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    rows, effects, events = [], [], []
    for (iid, loc), level in touched.items():
        rows.append((level["available"], level["on_hand"], now, iid, loc))
        sku = rows_by_id[db.variant_id_of_item(iid)]["sku"]
        effects.append(
            (sku or f"item:{iid}", "available", levels[(iid, loc)]["available"], level["available"])
        )
        events.append(("inventory_levels/update", inventory_level_payload(iid, loc, level["available"], now)))
    if not rows:
        return {"inventoryAdjustmentGroup": None, "userErrors": []}
    return {
        "inventoryAdjustmentGroup": commit(ctx, rows, effects, events, changes, input, now),
        "userErrors": [],
    }


def attach(schema: GraphQLSchema) -> None:
    mutation = schema.mutation_type
    assert mutation is not None
    mutation.fields["inventoryAdjustQuantities"].resolve = adjust_quantities
