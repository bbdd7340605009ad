"""Our attribute names in each marketplace's vocabulary: eBay item specifics and Amazon listing attributes
(the values the requirement checks read and the publishers send)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.ingest.attributes import Attribute
from domain.ingest.draft import ListingCopy

EBAY_ASPECTS: dict[str, tuple[str, ...]] = {
    "brand": ("Brand",),
    "colour": ("Color",),
    "material": ("Material",),
    "model_number": ("Model", "MPN"),
    "size": ("Size",),
    "volume": ("Capacity",),
    "weight": ("Item Weight",),
    "dimensions": ("Item Dimensions",),
    "product_type": ("Type",),
}

_AMAZON_UNITS = {"g": "grams", "kg": "kilograms", "mg": "milligrams", "lb": "pounds", "oz": "ounces"}


def ebay_aspects(attributes: Mapping[str, Attribute]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, attr in attributes.items():
        for aspect in EBAY_ASPECTS.get(name, ()):
            out[aspect] = [attr.value[:50]]  # Sell Inventory API: aspect values at most 50 characters
    return out


def amazon_attributes(
    attributes: Mapping[str, Attribute],
    listing: ListingCopy,
    *,
    marketplace_id: str,
    language_tag: str = "en_US",
) -> dict[str, Any]:
    """Listings Items API attributes for the copy and the extracted attributes (price, quantity, images and
    identifiers are added by the Amazon adapter from the listing draft)."""

    def text(value: str) -> list[dict[str, Any]]:
        return [{"value": value, "language_tag": language_tag, "marketplace_id": marketplace_id}]

    out: dict[str, Any] = {"item_name": text(listing.title)}
    if listing.description:
        out["product_description"] = text(listing.description)
    if listing.bullets:
        out["bullet_point"] = [b for bullet in listing.bullets for b in text(bullet)]
    if listing.keywords:
        out["generic_keyword"] = text(" ".join(listing.keywords))
    for ours, theirs in (
        ("brand", "brand"),
        ("colour", "color"),
        ("material", "material"),
        ("model_number", "model_number"),
        ("size", "size"),
    ):
        if ours in attributes:
            out[theirs] = text(attributes[ours].value)
    weight = attributes.get("weight")
    if weight is not None and weight.number is not None and weight.unit in _AMAZON_UNITS:
        out["item_weight"] = [
            {"value": weight.number, "unit": _AMAZON_UNITS[weight.unit], "marketplace_id": marketplace_id}
        ]
    return out
