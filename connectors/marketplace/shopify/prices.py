"""set_prices through productVariantsBulkUpdate: one call per product (the mutation is scoped to one product),
variants of the same product grouped, allowPartialUpdates so one bad price does not block its siblings, userErrors
mapped back to items by index (field ["variants", "<i>", ...])."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from connectors.errors import RetryableError, ValidationError
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.catalog import Catalog, VariantRef
from connectors.marketplace.shopify.client import ShopifyGraphQL
from connectors.marketplace.shopify.listings import money
from connectors.marketplace.types import BulkResult, ItemOutcome, PriceUpdate


def _index(field: list[str] | None) -> int | None:
    if field and len(field) >= 2 and field[0] == "variants" and field[1].isdigit():
        return int(field[1])
    return None


class PriceWriter:
    def __init__(
        self,
        gql: ShopifyGraphQL,
        catalog: Catalog,
        *,
        currency: str,
        concurrency: int,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self.gql = gql
        self.catalog = catalog
        self.currency = currency
        self._sem = asyncio.Semaphore(concurrency)
        self._on_wait = on_wait
        self._calls = 0

    async def write(self, updates: Sequence[PriceUpdate], key: str) -> BulkResult:
        out: dict[int, ItemOutcome] = {}
        last = {u.sku: n for n, u in enumerate(updates)}
        todo = []
        for n, u in enumerate(updates):
            if last[u.sku] != n:
                out[n] = ItemOutcome(sku=u.sku, status="rejected", code="DUPLICATE_IN_REQUEST")
            elif u.currency.upper() != self.currency.upper():
                out[n] = ItemOutcome(sku=u.sku, status="rejected", code="CURRENCY_MISMATCH",
                                     message=f"the shop sells in {self.currency}")  # fmt: skip
            else:
                todo.append((n, u))
        refs = await self.catalog.resolve((u.sku, u.external_variant_id) for _, u in todo)
        groups: dict[str, list[tuple[int, PriceUpdate, VariantRef]]] = {}
        for n, u in todo:
            ref = refs.get(u.sku)
            if ref is None:
                code = "DUPLICATE_SKU" if u.sku in self.catalog.ambiguous else "UNKNOWN_SKU"
                out[n] = ItemOutcome(sku=u.sku, status="rejected", code=code)
            else:
                groups.setdefault(ref.product_id, []).append((n, u, ref))
        parts = await asyncio.gather(*(self._product(pid, items, key) for pid, items in groups.items()))
        for part in parts:
            out.update(part)
        return BulkResult(outcomes=[out[n] for n in range(len(updates))])

    async def _product(
        self, product_id: str, items: list[tuple[int, PriceUpdate, VariantRef]], key: str
    ) -> dict[int, ItemOutcome]:
        variants = [{"id": ref.variant_id, "price": money(u.price)} for _, u, ref in items]
        k = f"{key}:p{product_id.rsplit('/', 1)[-1]}"

        def every(status: str, code: str | None, message: str | None) -> dict[int, ItemOutcome]:
            return {n: ItemOutcome(sku=u.sku, status=status, code=code, message=message, external_id=ref.variant_id)  # type: ignore[arg-type]
                    for n, u, ref in items}  # fmt: skip

        try:
            async with self._sem:
                data = await self.gql.execute(
                    docs.SET_PRICES, {"productId": product_id, "variants": variants}, idempotency_key=k
                )
            self._calls += 1
            if self._on_wait is not None:
                self._on_wait(f"shopify productVariantsBulkUpdate: {self._calls} products answered")
        except RetryableError as exc:
            return every("failed", exc.code or type(exc).__name__, str(exc))
        except ValidationError as exc:
            return every("rejected", exc.code, exc.message)
        errors = (data.get("productVariantsBulkUpdate") or {}).get("userErrors") or []
        out = every("applied", None, None)
        for e in errors:
            idx = _index(e.get("field"))
            targets = [items[idx]] if idx is not None and idx < len(items) else items
            for n, u, ref in targets:
                out[n] = ItemOutcome(sku=u.sku, status="rejected", code=e.get("code"), message=e.get("message"),
                                     external_id=ref.variant_id)  # fmt: skip
                if e.get("code") in ("PRODUCT_DOES_NOT_EXIST", "PRODUCT_VARIANT_DOES_NOT_EXIST"):
                    self.catalog.forget(u.sku)  # stale ids: look them up again next time
        return out
