"""SKU -> product / variation id. Woo's batch endpoints update by id only, so every SKU-addressed write needs this.

Lookups use GET /products?sku=a,b,c: since WooCommerce 3.x the v3 products endpoint splits the parameter on commas
and, when it is given, also searches variations (they come back with type "variation" and their parent_id).
Answers are cached for the adapter's lifetime; a stale entry shows up as a per-item "invalid id" error, after which
the batch writer forgets it and resolves again once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, NamedTuple

from connectors.marketplace.woocommerce.client import WooClient

MAX_SKUS_PER_LOOKUP = 100  # per_page maximum: one page answers the whole lookup
MAX_QUERY_CHARS = 3000  # stay far below common 8 KB URL limits of PHP hosts


class Ref(NamedTuple):
    """Where a SKU lives. A NamedTuple: 100,000 of these are built per bulk call, so they must be cheap."""

    product_id: int
    variation_id: int | None = None

    @property
    def object_id(self) -> int:
        return self.variation_id or self.product_id

    @property
    def collection(self) -> str:
        """The REST collection that holds this object (its batch endpoint is collection + "/batch")."""
        return f"/products/{self.product_id}/variations" if self.variation_id else "/products"

    @classmethod
    def of(cls, obj: dict[str, Any]) -> Ref:
        parent = obj.get("parent_id") or 0
        if obj.get("type") == "variation" and parent:
            return cls(product_id=int(parent), variation_id=int(obj["id"]))
        return cls(product_id=int(obj["id"]))

    @classmethod
    def from_ids(cls, external_id: str, external_variant_id: str | None) -> Ref:
        return cls(int(external_id), int(external_variant_id) if external_variant_id else None)


class SkuIndex:
    def __init__(self, client: WooClient, *, concurrency: int = 4) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)
        self._refs: dict[str, Ref] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def get(self, sku: str) -> Ref | None:
        return self._refs.get(sku)

    def remember(self, sku: str, ref: Ref) -> None:
        if sku:
            self._refs[sku] = ref

    def forget(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self._refs.pop(sku, None)

    async def resolve(self, skus: Iterable[str], *, refresh: bool = False) -> dict[str, Ref]:
        """Refs for the SKUs that exist (unknown SKUs are simply absent from the answer)."""
        wanted = list(dict.fromkeys(s for s in skus if s))
        missing = [s for s in wanted if refresh or s not in self._refs]
        if missing:
            if refresh:
                self.forget(missing)
            sem = asyncio.Semaphore(self.concurrency)

            async def one(chunk: list[str]) -> None:
                async with sem:
                    await self._lookup(chunk)

            await asyncio.gather(*(one(c) for c in _chunks(missing)))
        return {s: self._refs[s] for s in wanted if s in self._refs}

    async def _lookup(self, chunk: list[str]) -> None:
        wanted = set(chunk)
        page = await self.client.get_page(
            "/products",
            operation="products.lookup",
            params={
                "sku": ",".join(chunk),
                "per_page": MAX_SKUS_PER_LOOKUP,
                "_fields": "id,sku,type,parent_id",
            },
        )
        for obj in page.items:
            if obj.get("sku") in wanted:  # exact match; a SKU with a comma also matches its parts
                self.remember(obj["sku"], Ref.of(obj))


def _chunks(skus: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    cur: list[str] = []
    size = 0
    for sku in skus:
        if "," in sku:  # Woo would split it: look it up on its own
            out.append([sku])
            continue
        if cur and (len(cur) >= MAX_SKUS_PER_LOOKUP or size + len(sku) + 1 > MAX_QUERY_CHARS):
            out.append(cur)
            cur, size = [], 0
        cur.append(sku)
        size += len(sku) + 1
    if cur:
        out.append(cur)
    return out
