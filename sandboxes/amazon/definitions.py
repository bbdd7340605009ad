"""Product Type Definitions API 2020-09-01: search product types by keywords or item name, and one product
type's definition, whose `schema.link` points at its JSON Schema (served here under /_sandbox/amazon/schemas/, as
Amazon serves them from pre-signed S3 links that need no SP-API token).

A handful of Amazon's product types with a faithful subset of their LISTING requirements: every type requires the
offer, the condition, a name, a brand, an external product id, bullet points and a description; some add their
own (a shirt needs colour, size and department; a book its author). Attribute values follow the Listings Items
shape ([{"value": ..., "marketplace_id": ...}]), with Amazon's `maxUtf8ByteLength`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param

BASE = "/definitions/2020-09-01/productTypes"
VERSION = "U1JHdMfzEzB4"  # opaque, as Amazon's productTypeVersion is

# name -> (display name, words that suggest it, extra required attributes)
PRODUCT_TYPES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "DRINKING_CUP": ("Drinking Cup", ("mug", "mugs", "cup", "cups", "coffee", "tea"), ("material",)),
    "SHIRT": ("Shirt", ("shirt", "t-shirt", "tshirt", "tee"), ("color", "size", "department")),
    "ABIS_BOOK": ("Book", ("book", "books", "atlas", "novel", "paperback", "isbn"), ("author",)),
    "LAMP": ("Lamp", ("lamp", "lamps", "light", "lighting"), ("color",)),
    "SCARF": ("Scarf", ("scarf", "scarves", "shawl", "wrap"), ("color", "material")),
    "BOTTLE": ("Bottle", ("bottle", "flask", "thermos", "vacuum"), ("material", "capacity")),
    "STORAGE_BOX": ("Storage Box", ("box", "boxes", "storage", "container"), ()),
    "PRODUCT": ("Product", (), ()),
}
COMMON_REQUIRED = (
    "item_name",
    "brand",
    "externally_assigned_product_identifier",
    "bullet_point",
    "product_description",
    "condition_type",
    "purchasable_offer",
    "fulfillment_availability",
)


def _text(max_bytes: int) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["value"],
            "properties": {
                "value": {"type": "string", "minLength": 1, "maxUtf8ByteLength": max_bytes},
                "language_tag": {"type": "string"},
                "marketplace_id": {"type": "string"},
            },
        },
    }


def _loose() -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": {"type": "object"}}


PROPERTIES: dict[str, dict[str, Any]] = {
    "item_name": _text(200),
    "brand": _text(100),
    "bullet_point": {**_text(500), "maxItems": 5},
    "product_description": _text(2000),
    "generic_keyword": _text(250),
    "color": _text(100),
    "size": _text(100),
    "material": _text(100),
    "department": _text(50),
    "author": _text(200),
    "capacity": _loose(),
    "model_number": _text(100),
    "item_weight": _loose(),
    "condition_type": _loose(),
    "purchasable_offer": _loose(),
    "fulfillment_availability": _loose(),
    "externally_assigned_product_identifier": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["type", "value"],
            "properties": {
                "type": {"enum": ["ean", "upc", "isbn", "gtin", "jan"]},
                "value": {"type": "string"},
            },
        },
    },
}


def schema_document(product_type: str, base_url: str) -> dict[str, Any]:
    _, _, extra = PRODUCT_TYPES[product_type]
    required = list(COMMON_REQUIRED) + [a for a in extra if a not in COMMON_REQUIRED]
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base_url}/_sandbox/amazon/schemas/{product_type}.json",
        "title": f"Amazon product type {product_type} (LISTING requirements)",
        "type": "object",
        "required": required,
        "properties": {name: PROPERTIES[name] for name in sorted(set(required) | set(PROPERTIES))},
    }


def search(words: list[str]) -> list[str]:
    wanted = {w.strip(".,:;!?()\"'").lower() for w in words if w.strip()}
    scored = sorted(
        (
            (len(wanted & set(vocab)), name)
            for name, (_, vocab, _) in PRODUCT_TYPES.items()
            if wanted & set(vocab)
        ),
        key=lambda s: (-s[0], s[1]),
    )
    return [name for _, name in scored] or ["PRODUCT"]


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Product Type Definitions 2020-09-01"])

    @r.get(BASE)
    async def search_definitions_product_types(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "searchDefinitionsProductTypes")
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        keywords = csv_param(request, "keywords")
        item_name = request.query_params.get("itemName")
        if bool(keywords) == bool(item_name):
            raise SpApiError(
                400, "InvalidInput", "Provide either keywords or itemName, not both.", headers=headers
            )
        words = keywords or (item_name or "").split()
        found = [
            {"name": n, "displayName": PRODUCT_TYPES[n][0], "marketplaceIds": [sbx.marketplace_id]}
            for n in search(words)
        ]
        return JSONResponse({"productTypes": found, "productTypeVersion": VERSION}, headers=headers)

    @r.get(BASE + "/{product_type}")
    async def get_definitions_product_type(product_type: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getDefinitionsProductType")
        sbx.check_marketplace(csv_param(request, "marketplaceIds"))
        if product_type not in PRODUCT_TYPES:
            raise SpApiError(
                404, "NOT_FOUND", f"Product type {product_type} is not available.", headers=headers
            )
        base = str(request.base_url).rstrip("/")
        link = {"resource": f"{base}/_sandbox/amazon/schemas/{product_type}.json", "verb": "GET"}
        body = {
            "metaSchema": {
                "link": {"resource": f"{base}/_sandbox/amazon/schemas/meta.json", "verb": "GET"},
                "checksum": "0",
            },
            "schema": {"link": link, "checksum": VERSION},
            "requirements": request.query_params.get("requirements", "LISTING"),
            "requirementsEnforced": request.query_params.get("requirementsEnforced", "ENFORCED"),
            "propertyGroups": {},
            "locale": request.query_params.get("locale", "en_US"),
            "marketplaceIds": [sbx.marketplace_id],
            "productType": product_type,
            "displayName": PRODUCT_TYPES[product_type][0],
            "productTypeVersion": {"version": VERSION, "latest": True, "releaseCandidate": False},
        }
        return JSONResponse(body, headers=headers)

    @r.get("/_sandbox/amazon/schemas/{product_type}.json")
    async def schema(product_type: str, request: Request) -> JSONResponse:
        if product_type not in PRODUCT_TYPES:
            return JSONResponse({"detail": "no such schema"}, status_code=404)
        return JSONResponse(schema_document(product_type, str(request.base_url).rstrip("/")))

    return r
