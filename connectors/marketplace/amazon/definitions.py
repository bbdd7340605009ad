"""Product Type Definitions API 2020-09-01: which product type a product is (searchDefinitionsProductTypes by
keywords or item name) and what a listing of that type must carry (getDefinitionsProductType, whose answer links
the JSON Schema document; Amazon serves it from a pre-signed URL, fetched here without SP-API credentials).

Schemas are large and change with a new product type version only: kept per (type, version) for the adapter's life.
The Product Type Definitions model is not in the shared spec folder, so no contract test covers these calls; the
shapes follow Amazon's public reference.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from connectors.errors import ValidationError
from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.options import AmazonOptions

BASE = "/definitions/2020-09-01/productTypes"
MAX_KEYWORDS = 10  # the reference caps the keyword list; more words only dilute the match


class ProductTypeMatch(BaseModel):
    name: str  # "WATER_BOTTLE"
    display_name: str | None = None


class ProductTypeDefinition(BaseModel):
    product_type: str
    version: str | None = None
    requirements: str = "LISTING"
    schema_doc: dict[str, Any]


class DefinitionsApi:
    def __init__(self, api: SpApiClient, options: AmazonOptions) -> None:
        self.api = api
        self.options = options
        self._schemas: dict[tuple[str, str | None], ProductTypeDefinition] = {}

    async def search(
        self, *, keywords: list[str] | None = None, item_name: str | None = None
    ) -> list[ProductTypeMatch]:
        """Best first, as Amazon ranks them. Give keywords or an item name (Amazon takes one or the other)."""
        if bool(keywords) == bool(item_name):
            raise ValueError("give keywords or an item name")
        params: dict[str, Any] = {
            "marketplaceIds": self.options.marketplace_id,
            "locale": self.options.language_tag,
        }
        if keywords:
            params["keywords"] = ",".join(k.strip() for k in keywords[:MAX_KEYWORDS] if k.strip())
        else:
            params["itemName"] = (item_name or "")[:200]
            params["searchLocale"] = self.options.language_tag
        r = await self.api.call("searchDefinitionsProductTypes", "GET", BASE, params=params)
        return [
            ProductTypeMatch(name=t["name"], display_name=t.get("displayName"))
            for t in r.json().get("productTypes") or []
            if isinstance(t, dict) and t.get("name")
        ]

    async def definition(self, product_type: str) -> ProductTypeDefinition:
        r = await self.api.call(
            "getDefinitionsProductType",
            "GET",
            f"{BASE}/{quote(product_type, safe='')}",
            params={
                "marketplaceIds": self.options.marketplace_id,
                "requirements": "LISTING",
                "requirementsEnforced": "ENFORCED",
                "locale": self.options.language_tag,
            },
        )
        meta = r.json()
        version = (meta.get("productTypeVersion") or {}).get("version")
        known = self._schemas.get((product_type, version))
        if known is not None:
            return known
        link = ((meta.get("schema") or {}).get("link") or {}).get("resource")
        if not link:
            raise ValidationError(
                f"amazon: product type {product_type} has no schema link",
                marketplace="amazon",
                operation="getDefinitionsProductType",
            )
        doc = await self.api.http.request("GET", link, operation="getProductTypeSchema")
        found = ProductTypeDefinition(product_type=product_type, version=version, schema_doc=doc.json())
        self._schemas[(product_type, version)] = found
        return found
