"""Listing attributes as Amazon models them (item_name, purchasable_offer, fulfillment_availability, ...): applying
PUT bodies, JSON patches and feed messages to a listing, with the issues Amazon reports for bad values.

Issue codes follow what the Listings API returns: 90220 (required attribute missing), 90000900 (invalid attribute
value), BAD_REQUEST (malformed patch), NOT_FOUND (no such SKU).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY"})  # no minor units; every other SP-API currency has two decimals
CORE = ("item_name", "purchasable_offer", "fulfillment_availability")
PATCH_OPS = ("add", "replace", "merge", "delete")


def dump_attrs(attrs: dict[str, Any]) -> str:
    """The stored attributes as JSON. Request bodies are parsed with `parse_float=Decimal` (prices stay exact), so
    any number with a fraction in any attribute (a weight of 0.35 kg, a volume) arrives as a Decimal."""

    def number(value: object) -> float:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(f"cannot store {type(value).__name__} in listing attributes")

    return json.dumps(attrs, default=number)


def issue(
    code: str, message: str, attribute: str | None = None, category: str = "INVALID_ATTRIBUTE"
) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR", "categories": [category]}
    if attribute:
        out["attributeNames"] = [attribute]
    return out


@dataclass
class ListingValues:
    """The parts of a listing the sandbox tracks as columns, plus the remaining attributes."""

    title: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> ListingValues:
        if row is None:
            return cls()
        import json

        return cls(
            title=row["title"],
            price=Decimal(row["price"]) if row["price"] is not None else None,
            currency=row["currency"],
            quantity=row["quantity"],
            attrs=json.loads(row["attributes"] or "{}"),
        )

    def copy(self) -> ListingValues:
        return ListingValues(self.title, self.price, self.currency, self.quantity, copy.deepcopy(self.attrs))


def _set_attribute(
    values: ListingValues, name: str, value: Any, marketplace_id: str, currency: str
) -> list[dict]:
    """Set one top-level attribute; returns issues (empty when the value is acceptable)."""
    if name == "item_name":
        title = (
            value[0].get("value")
            if isinstance(value, list) and value and isinstance(value[0], dict)
            else None
        )
        if not isinstance(title, str) or not title.strip():
            return [issue("90000900", "The value for 'item_name' is invalid.", name)]
        values.title = title
        return []
    if name == "fulfillment_availability":
        return _set_quantity(values, value)
    if name == "purchasable_offer":
        return _set_price(values, value, marketplace_id, currency)
    values.attrs[name] = value
    return []


def _set_quantity(values: ListingValues, value: Any) -> list[dict]:
    entries = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
    entry = next((e for e in entries if e.get("fulfillment_channel_code") == "DEFAULT"), None)
    if entry is None:
        if entries and all("fulfillment_channel_code" not in e for e in entries):
            return [
                issue("BAD_REQUEST", "Invalid parameters provided.", "fulfillment_availability", "INVALID")
            ]
        return [
            issue(
                "90000900",
                "No 'DEFAULT' fulfillment channel in 'fulfillment_availability'.",
                "fulfillment_availability",
            )
        ]
    qty = entry.get("quantity")
    if isinstance(qty, bool) or not isinstance(qty, int):
        return [
            issue(
                "90000900",
                f"The value '{qty}' for 'quantity' in 'fulfillment_availability' is not an integer.",
                "fulfillment_availability",
            )
        ]
    if qty < 0:
        return [
            issue(
                "90000900",
                f"The value '{qty}' for 'quantity' in 'fulfillment_availability' is below the minimum of 0.",
                "fulfillment_availability",
            )
        ]
    values.quantity = qty
    return []


def _set_price(values: ListingValues, value: Any, marketplace_id: str, currency: str) -> list[dict]:
    offers = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
    offer = next((o for o in offers if o.get("marketplace_id") in (None, marketplace_id)), None)
    if offer is None:
        return [issue("BAD_REQUEST", "Invalid parameters provided.", "purchasable_offer", "INVALID")]
    if offer.get("currency", currency) != currency:
        return [
            issue(
                "90000900",
                f"The currency '{offer.get('currency')}' is not valid in this marketplace; use '{currency}'.",
                "purchasable_offer",
            )
        ]
    try:
        raw = offer["our_price"][0]["schedule"][0]["value_with_tax"]
        amount = Decimal(str(raw))
    except (KeyError, IndexError, TypeError, InvalidOperation):
        return [issue("BAD_REQUEST", "Invalid parameters provided.", "purchasable_offer", "INVALID")]
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return [
            issue(
                "90000900",
                f"The value '{raw}' for 'value_with_tax' in 'purchasable_offer' is invalid: it "
                "must be a positive amount with at most 2 decimal places.",
                "purchasable_offer",
            )
        ]
    # Kept in the currency's minor units, so the listing shows "10.00" as SP-API's Decimal strings do.
    values.price = amount.quantize(Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01"))
    values.currency = currency
    return []


def apply_attributes(
    current: ListingValues,
    attributes: dict[str, Any],
    *,
    full: bool,
    marketplace_id: str,
    currency: str,
) -> tuple[ListingValues, list[dict]]:
    """PUT / feed UPDATE (full: attributes not given are dropped) or PARTIAL_UPDATE (only the given ones change)."""
    new = ListingValues() if full else current.copy()
    issues: list[dict] = []
    for name, value in attributes.items():
        issues += _set_attribute(new, name, value, marketplace_id, currency)
    if full and new.title is None:
        issues.append(
            issue("90220", "'item_name' is required but not supplied.", "item_name", "MISSING_ATTRIBUTE")
        )
    return new, issues


def apply_patches(
    current: ListingValues, patches: Any, *, marketplace_id: str, currency: str
) -> tuple[ListingValues, list[dict]]:
    """JSON Patch on top-level attributes (Amazon allows no nested paths); merge behaves as replace here."""
    if not isinstance(patches, list) or not patches:
        return current, [issue("BAD_REQUEST", "Invalid parameters provided.", None, "INVALID")]
    new = current.copy()
    issues: list[dict] = []
    for patch in patches:
        op = patch.get("op") if isinstance(patch, dict) else None
        path = patch.get("path", "") if isinstance(patch, dict) else ""
        parts = path.split("/")
        if (
            op not in PATCH_OPS
            or len(parts) != 3
            or parts[0] != ""
            or parts[1] != "attributes"
            or not parts[2]
        ):
            issues.append(issue("BAD_REQUEST", "Invalid parameters provided.", None, "INVALID"))
            continue
        name = parts[2]
        if op == "delete":
            if name == "purchasable_offer":
                new.price = None
            elif name == "fulfillment_availability":
                new.quantity = 0
            elif name == "item_name":
                issues.append(issue("90220", "'item_name' is required and cannot be deleted.", name))
            else:
                new.attrs.pop(name, None)
            continue
        if "value" not in patch:
            issues.append(issue("BAD_REQUEST", "Invalid parameters provided.", name, "INVALID"))
            continue
        issues += _set_attribute(new, name, patch["value"], marketplace_id, currency)
    return new, issues


def render_attributes(row: dict[str, Any], marketplace_id: str) -> dict[str, Any]:
    """The attributes of a listing as getListingsItem(includedData=attributes) shows them."""
    import json

    attrs: dict[str, Any] = json.loads(row["attributes"] or "{}")
    if "externally_assigned_product_identifier" not in attrs:
        # listings seeded through /_sandbox/seed carry their identifiers beside the attributes
        ids = json.loads(row.get("identifiers") or "{}") if isinstance(row, dict) else {}
        found = [
            {"type": k, "value": v, "marketplace_id": marketplace_id}
            for k, v in sorted(ids.items())
            if k != "asin"
        ]
        if found:
            attrs["externally_assigned_product_identifier"] = found
    attrs["item_name"] = [{"value": row["title"], "language_tag": "en_US", "marketplace_id": marketplace_id}]
    attrs["fulfillment_availability"] = [{"fulfillment_channel_code": "DEFAULT", "quantity": row["quantity"]}]
    if row["price"] is not None:
        attrs["purchasable_offer"] = [
            {
                "marketplace_id": marketplace_id,
                "currency": row["currency"],
                "audience": "ALL",
                "our_price": [{"schedule": [{"value_with_tax": float(Decimal(row["price"]))}]}],
            }
        ]
    return attrs
