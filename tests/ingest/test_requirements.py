"""Required attributes per category: an Amazon product type schema and eBay item aspects, gaps named."""

from __future__ import annotations

from domain.ingest.attributes import Attribute
from domain.ingest.draft import ListingCopy
from domain.listing.aspects import amazon_attributes, ebay_aspects
from domain.listing.requirements import check_amazon_product_type, check_ebay_aspects

MP = "ATVPDKIKX0DER"


def _text_attr(max_len: int | None = None, max_bytes: int | None = None) -> dict:
    value: dict = {"type": "string"}
    if max_len:
        value["maxLength"] = max_len
    if max_bytes:
        value["maxUtf8ByteLength"] = max_bytes
    return {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["value"],
            "properties": {
                "value": value,
                "language_tag": {"type": "string"},
                "marketplace_id": {"type": "string"},
            },
        },
    }


# A small product type in the shape of Amazon's definitions (meta-schema v1: draft 2019-09 + Amazon keywords)
BOTTLE_SCHEMA = {
    "$schema": "https://schemas.amazon.com/selling-partners/definitions/product-types/meta-schema/v1",
    "$id": "https://schemas.amazon.com/selling-partners/definitions/product-types/schema/v1/BOTTLE",
    "type": "object",
    "required": ["item_name", "brand", "bullet_point", "color", "material"],
    "properties": {
        "item_name": _text_attr(max_len=200),
        "brand": _text_attr(max_len=100),
        "bullet_point": {**_text_attr(max_len=700), "maxItems": 5},
        "color": _text_attr(),
        "material": _text_attr(),
        "generic_keyword": _text_attr(max_bytes=249),
        "batteries_required": {
            "type": "array",
            "items": {"type": "object", "properties": {"value": {"type": "boolean"}}},
        },
        "battery": _text_attr(),
        "item_weight": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "unit"],
                "properties": {
                    "value": {"type": "number", "minimum": 0},
                    "unit": {"enum": ["grams", "kilograms", "pounds", "ounces"]},
                },
            },
        },
    },
    "allOf": [
        {
            "if": {
                "required": ["batteries_required"],
                "properties": {
                    "batteries_required": {"contains": {"properties": {"value": {"const": True}}}}
                },
            },
            "then": {"required": ["battery"]},
        }
    ],
}


def attrs(**values: str) -> dict[str, Attribute]:
    return {k: Attribute(name=k, value=v, confidence=0.9, source="ocr") for k, v in values.items()}


def test_amazon_missing_attributes_are_named() -> None:
    listing = ListingCopy(title="ACME Bottle 500 ml", bullets=["Steel"], keywords=["bottle"])
    doc = amazon_attributes(attrs(brand="ACME"), listing, marketplace_id=MP)
    report = check_amazon_product_type(BOTTLE_SCHEMA, doc, product_type="BOTTLE")
    assert sorted(report.missing) == ["color", "material"]
    assert not report.complete
    full = amazon_attributes(attrs(brand="ACME", colour="blue", material="steel"), listing, marketplace_id=MP)
    assert check_amazon_product_type(BOTTLE_SCHEMA, full, product_type="BOTTLE").complete


def test_amazon_conditional_and_invalid_values() -> None:
    listing = ListingCopy(title="T" * 250, bullets=["x"], keywords=["größe"] * 60)
    doc = amazon_attributes(attrs(brand="ACME", colour="red", material="plastic"), listing, marketplace_id=MP)
    doc["batteries_required"] = [{"value": True}]
    doc["item_weight"] = [{"value": -1, "unit": "stones"}]
    report = check_amazon_product_type(BOTTLE_SCHEMA, doc, product_type="BOTTLE")
    assert report.missing == ["battery"]
    invalid = {g.attribute for g in report.gaps if g.kind == "invalid"}
    assert {
        "item_name[0].value",
        "generic_keyword[0].value",
        "item_weight[0].value",
        "item_weight[0].unit",
    } <= invalid
    assert any("bytes" in g.message for g in report.gaps if g.attribute == "generic_keyword[0].value")


def test_weight_maps_to_amazon_units() -> None:
    weight = Attribute(name="weight", value="350 g", confidence=0.9, source="ocr", number=350, unit="g")
    doc = amazon_attributes({"weight": weight}, ListingCopy(title="x"), marketplace_id=MP)
    assert doc["item_weight"] == [{"value": 350, "unit": "grams", "marketplace_id": MP}]


# The shape of eBay Taxonomy getItemAspectsForCategory (a few aspects of a drinkware category)
EBAY_ASPECTS = {
    "aspects": [
        {"localizedAspectName": "Brand", "aspectConstraint": {"aspectDataType": "STRING", "aspectRequired": True, "aspectMode": "FREE_TEXT", "aspectUsage": "RECOMMENDED", "itemToAspectCardinality": "SINGLE", "aspectMaxLength": 65}},
        {"localizedAspectName": "Type", "aspectConstraint": {"aspectDataType": "STRING", "aspectRequired": True, "aspectMode": "SELECTION_ONLY", "itemToAspectCardinality": "SINGLE"},
         "aspectValues": [{"localizedValue": "Water Bottle"}, {"localizedValue": "Flask"}, {"localizedValue": "Tumbler"}]},
        {"localizedAspectName": "Color", "aspectConstraint": {"aspectDataType": "STRING", "aspectRequired": False, "aspectUsage": "RECOMMENDED", "aspectMode": "FREE_TEXT", "itemToAspectCardinality": "MULTI"}},
        {"localizedAspectName": "Capacity", "aspectConstraint": {"aspectDataType": "STRING", "aspectRequired": False, "aspectUsage": "OPTIONAL", "aspectMode": "FREE_TEXT"}},
        {"localizedAspectName": "Number of Items in Set", "aspectConstraint": {"aspectDataType": "NUMBER", "aspectRequired": False, "aspectUsage": "OPTIONAL", "aspectMode": "FREE_TEXT"}},
    ]
}  # fmt: skip


def test_ebay_aspect_gaps() -> None:
    values = ebay_aspects(attrs(brand="ACME", volume="500 ml"))
    report = check_ebay_aspects(EBAY_ASPECTS, values, category_id="177008")
    assert report.missing == ["Type"]
    assert [g.attribute for g in report.gaps if g.kind == "recommended"] == ["Color"]
    bad = check_ebay_aspects(
        EBAY_ASPECTS,
        {"brand": ["ACME", "Other"], "Type": ["Mug"], "Number of Items in Set": ["two"]},
        category_id="177008",
    )
    messages = " | ".join(g.message for g in bad.gaps if g.kind == "invalid")
    assert "Brand takes one value" in messages and "'Mug' is not one of eBay's values" in messages
    assert "must be a number" in messages
    ok = check_ebay_aspects(EBAY_ASPECTS, {"Brand": ["ACME"], "Type": ["water bottle"]}, category_id="177008")
    assert ok.complete
