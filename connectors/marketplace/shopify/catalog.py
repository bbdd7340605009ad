"""SKU -> Shopify ids (product, variant, inventory item), cached per adapter.

Bulk updates address variants and inventory items by gid, while merchflow speaks SKUs. The cache is filled by
list_listings and create_listing; misses are resolved by variant gid (`nodes`, exact) or else by SKU search
(`productVariants(query: "sku:...")`, which lags a few seconds behind writes on the real API). A SKU carried by
several variants is ambiguous and refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.client import ShopifyGraphQL

SKUS_PER_SEARCH = 50
IDS_PER_LOOKUP = 200


@dataclass(frozen=True)
class VariantRef:
    sku: str
    product_id: str
    variant_id: str
    inventory_item_id: str
    variants_in_product: int | None = None


def gid_kind(value: str | None) -> str | None:
    if value and value.startswith("gid://shopify/"):
        return value.split("/")[3]
    return None


def search_term(sku: str) -> str:
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    return f'sku:"{escaped}"'


def ref_from_node(node: dict[str, Any]) -> VariantRef | None:
    if not node or not node.get("sku"):
        return None
    product = node.get("product") or {}
    count = (product.get("variantsCount") or {}).get("count")
    return VariantRef(
        sku=node["sku"],
        product_id=product.get("id", ""),
        variant_id=node["id"],
        inventory_item_id=(node.get("inventoryItem") or {}).get("id", ""),
        variants_in_product=count,
    )


class Catalog:
    def __init__(self, gql: ShopifyGraphQL) -> None:
        self.gql = gql
        self.by_sku: dict[str, VariantRef] = {}
        self.sku_by_item: dict[str, str] = {}
        self.ambiguous: set[str] = set()

    def remember(self, ref: VariantRef) -> None:
        self.by_sku[ref.sku] = ref
        if ref.inventory_item_id:
            self.sku_by_item[ref.inventory_item_id] = ref.sku

    def forget(self, sku: str) -> None:
        ref = self.by_sku.pop(sku, None)
        if ref is not None:
            self.sku_by_item.pop(ref.inventory_item_id, None)

    async def resolve(
        self, wanted: Iterable[tuple[str, str | None]], *, refresh: bool = False
    ) -> dict[str, VariantRef]:
        """(sku, variant gid or None) pairs -> refs for the SKUs that exist unambiguously."""
        pairs = list(wanted)
        if refresh:
            for sku, _ in pairs:
                self.forget(sku)
        by_id = {
            vid: sku for sku, vid in pairs if sku not in self.by_sku and gid_kind(vid) == "ProductVariant"
        }
        for chunk in _chunks(list(by_id), IDS_PER_LOOKUP):
            data = await self.gql.execute(
                docs.VARIANTS_BY_ID, {"ids": chunk}, cost=docs.VARIANTS_BY_ID.estimate(len(chunk))
            )
            for node in data.get("nodes") or []:
                ref = ref_from_node(node) if node and node.get("__typename") == "ProductVariant" else None
                if ref is not None and by_id.get(ref.variant_id) == ref.sku:
                    self.remember(ref)
        missing = sorted({sku for sku, _ in pairs if sku not in self.by_sku and sku not in self.ambiguous})
        for chunk in _chunks(missing, SKUS_PER_SEARCH):
            await self._search(chunk)
        return {sku: self.by_sku[sku] for sku, _ in pairs if sku in self.by_sku and sku not in self.ambiguous}

    async def _search(self, skus: Sequence[str]) -> None:
        first = min(250, 2 * len(skus) + 2)  # room for duplicates, so they are seen and refused
        data = await self.gql.execute(
            docs.VARIANTS_BY_SKU,
            {"first": first, "query": " OR ".join(search_term(s) for s in skus)},
            cost=docs.VARIANTS_BY_SKU.estimate(first),
        )
        found: dict[str, list[VariantRef]] = {}
        for node in (data.get("productVariants") or {}).get("nodes") or []:
            ref = ref_from_node(node)
            if ref is not None and ref.sku in skus:  # search is by term; keep exact matches only
                found.setdefault(ref.sku, []).append(ref)
        for sku, refs in found.items():
            if len(refs) > 1:
                self.ambiguous.add(sku)
                self.forget(sku)
            else:
                self.remember(refs[0])


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
