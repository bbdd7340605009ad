"""A lost answer never becomes a stale replay. The push of "quantity = 4" is applied by the marketplace and its answer
lost (the sandbox fault "applied, then 504"); while the answer is in flight a customer buys the 4 units on that
marketplace and the master learns of the sale; then the push is retried. The marketplace must end at the newer 0,
the lost write must never go out again (the sandbox request log holds its body once), and the sandbox's duplicates
inspection stays empty. For each marketplace, and for Amazon's feed path as well as its patch path."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from activities.stock.repository import LineIn, record_order
from connectors.marketplace.accounts import account_config
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.port import Marketplace
from connectors.ratelimit import RateLimiterRegistry
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount
from tests.conftest import make_token
from tests.stock.conftest import ENABLED, StackFactory
from tests.stock.harness import Stack, master_available, running_worker
from tests.support.waiting import until

SKU = "STALE-1"
# The one write of each marketplace that carries the pushed quantity.
PUSH_WRITES: dict[str, Callable[[httpx.Request], bool]] = {
    "amazon": lambda r: r.method == "PATCH" and "/listings/2021-08-01/items/" in r.url.path,
    "amazon-feed": lambda r: r.method == "POST" and r.url.path == "/feeds/2021-06-30/feeds",
    "ebay": lambda r: r.url.path.endswith("/bulk_update_price_quantity"),
    "shopify": lambda r: r.url.path.endswith("/graphql.json") and b"inventorySetQuantities" in r.content,
    "woocommerce": lambda r: r.method == "POST" and r.url.path.endswith("/batch"),
}


class LoseOnce(httpx.AsyncBaseTransport):
    """Lets the sandbox lose the answer of the first matching write (its real "applied, then 504" fault, switched
    on for exactly that request), runs `meanwhile` before the adapter sees the 504, and records every matching
    write's body."""

    def __init__(
        self,
        match: Callable[[httpx.Request], bool],
        faults: Callable[[float], Awaitable[None]],
        meanwhile: Callable[[], Awaitable[None]],
    ) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.match, self.faults, self.meanwhile = match, faults, meanwhile
        self.lost: bytes | None = None
        self.writes: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if not self.match(request):
            return await self.inner.handle_async_request(request)
        self.writes.append(request.content)
        if self.lost is not None:
            return await self.inner.handle_async_request(request)
        self.lost = request.content
        await self.faults(1.0)
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            await self.faults(0.0)
        assert response.status_code == 504, response.status_code
        await self.meanwhile()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def adapter_for(cfg: AccountConfig, transport: httpx.AsyncBaseTransport) -> Marketplace:
    limiter = RateLimiterRegistry(enabled=False)
    if cfg.marketplace == "amazon":
        from connectors.marketplace.amazon.adapter import AmazonMarketplace

        return AmazonMarketplace(cfg, limiter, transport=transport)
    if cfg.marketplace == "ebay":
        from connectors.marketplace.ebay.adapter import EbayMarketplace

        return EbayMarketplace.from_config(cfg, limiter, http_transport=transport)
    if cfg.marketplace == "shopify":
        from connectors.marketplace.shopify.adapter import ShopifyMarketplace

        return ShopifyMarketplace.from_config(cfg, limiter, transport=transport)
    from connectors.marketplace.woocommerce.adapter import WooCommerceMarketplace

    return WooCommerceMarketplace.from_config(cfg, limiter, transport=transport)


def configure(st: Stack, mp: str, options: dict[str, Any]) -> AccountConfig:
    with session_scope(st.engine) as s:
        row = s.get(MarketplaceAccount, st.accounts[mp])
        assert row is not None
        row.config = {**(row.config or {}), **options}
        s.add(row)
    with Session(st.engine) as s:
        row = s.get(MarketplaceAccount, st.accounts[mp])
        assert row is not None
        return account_config(row, st.settings)


CASES = [c for c in ("amazon", "amazon-feed", "ebay", "shopify", "woocommerce") if c.split("-")[0] in ENABLED]


@pytest.mark.parametrize("case", CASES)
async def test_a_lost_push_retried_after_a_sale_ends_at_the_newer_value(
    stack_sqlite: StackFactory, case: str
) -> None:
    mp = case.split("-")[0]
    async with stack_sqlite(stock={SKU: 5, "OTHER": 3}, marketplaces=(mp,), worker=False) as st:
        assert st.relay is not None
        st.relay.hold = True  # the sale below reaches the master directly, not through its webhook
        options = {"quantity_patch_max_skus": 0} if case == "amazon-feed" else {}
        cfg = configure(st, mp, options)
        account_id = st.accounts[mp]

        async def faults(rate: float) -> None:
            await st.sbx.faults(mp, lost_response_rate=rate)

        async def sale() -> None:
            bought = await st.sbx.buy(mp, SKU, 4, order_id="stale-sale-1")
            assert bought.status_code == 201, bought.text

            def allocate() -> None:
                with session_scope(st.engine) as s:
                    r = record_order(s, account_id=account_id, marketplace=mp, order_id="stale-sale-1",
                                     lines=[LineIn(SKU, 4)], source="webhook")  # fmt: skip
                    assert r.status == "allocated"

            await asyncio.to_thread(allocate)

        wire = LoseOnce(PUSH_WRITES[case], faults, sale)
        adapter = adapter_for(cfg, wire)
        await adapter.list_listings()  # tokens and lookups first: only the push itself is to lose its answer
        async with running_worker(st.client, st.settings, adapters={account_id: adapter}):
            async with st.api(make_token(st.engine, "operator")) as api:
                r = await api.post(
                    "/api/v1/stock/adjustments",
                    json={"sku": SKU, "kind": "adjustment", "quantity": -1, "reason": "one broken",
                          "idempotency_key": f"stale-{case}"},
                )  # fmt: skip
                assert r.status_code == 201, r.text
            await st.client.get_workflow_handle(r.json()["publish_workflow_id"]).result()
            truth = await until(lambda: st.sbx.truth(mp, SKU), what="the sandbox listing")
            assert wire.lost is not None, "the push never went out"
            assert truth[SKU] == 0, (
                f"{case}: the marketplace shows {truth[SKU]} after the sale sold out the SKU"
            )
        assert (await asyncio.to_thread(master_available, st.engine, account_id))[SKU] == 0
        assert wire.writes.count(wire.lost) == 1, "the write whose answer was lost was sent again"
        lost_sha = hashlib.sha256(wire.lost).hexdigest()
        logged = [q for q in await st.sbx.requests(mp) if q["body_sha256"] == lost_sha]
        assert [q["fault"] for q in logged] == ["lost_response"]
        assert await st.sbx.duplicates(mp) == []
