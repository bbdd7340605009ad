"""Set quantities for n SKUs on the WooCommerce sandbox: through WooCommerceMarketplace.set_quantities, then with a
bare httpx loop sending the same POST /products/batch requests (100 objects each, same concurrency) - the floor.

Woo's batch endpoints update by id, so the headline adapter run is given the product ids a previous listing sync
stored (QuantityUpdate.external_id), exactly what the floor sends. A third run ("cold") gives SKUs only, so the
adapter also resolves them (GET /products?sku=a,b,... 100 at a time) - reported apart, it sends twice the requests.

The sandbox runs in its own process (uvicorn, fresh temp db) so client and server do not share a GIL.
WooCommerce core has no rate limit; with rate_limits=True the sandbox plays a host limiting the site to 10 requests/s
(burst 20) and the adapter uses its documented default bucket (10 requests/s, burst 10): the bound is
10 x 100 = 1,000 SKUs/s. The floor only honours 429 + Retry-After.

    .venv/bin/python -m benchmarks.bulk.woocommerce            # n=100000 limits off, then n=20000 limits on
    .venv/bin/python -m benchmarks.bulk.woocommerce 20000 on
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.bulk.common import (
    alternate,
    bench_skus,
    default_rounds,
    disable_webhooks,
    main,
    quiet_logging,
    running_sandbox,
    seed_listings,
    standard_result,
)
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.types import QuantityUpdate
from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS, WooCommerceMarketplace
from connectors.marketplace.woocommerce.bulk import MAX_BATCH
from connectors.marketplace.woocommerce.options import WooOptions
from connectors.ratelimit import RateLimiterRegistry

DEFAULT_LIMITED_N = 20_000  # ~20 s at the 1,000 SKUs/s bound
CONCURRENCY = WooOptions().concurrency
PATH = "/wp-json/wc/v3/products/batch"
AUTH = (SANDBOX_CREDENTIALS["consumer_key"], SANDBOX_CREDENTIALS["consumer_secret"])


async def _floor(url: str, ids: list[int], quantity: int) -> float:
    """The same requests with nothing but httpx: no limiter, no outcome mapping, a naive 429 wait."""
    sem = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, auth=AUTH, limits=limits, timeout=60) as client:

        async def send(chunk: list[int]) -> None:
            body = {"update": [{"id": i, "manage_stock": True, "stock_quantity": quantity} for i in chunk]}
            async with sem:
                while True:
                    r = await client.post(PATH, json=body)
                    if r.status_code != 429:
                        r.raise_for_status()
                        r.json()
                        return
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))

        started = time.perf_counter()
        await asyncio.gather(*(send(ids[i : i + MAX_BATCH]) for i in range(0, len(ids), MAX_BATCH)))
        return time.perf_counter() - started


def _adapter(url: str, rate_limits: bool) -> WooCommerceMarketplace:
    cfg = AccountConfig(
        marketplace="woocommerce",
        name="bench",
        base_url=url,
        credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
        timeout_seconds=60,
    )
    return WooCommerceMarketplace.from_config(cfg, RateLimiterRegistry(enabled=rate_limits))


async def _timed(adapter: WooCommerceMarketplace, updates: list[QuantityUpdate], key: str) -> float:
    started = time.perf_counter()
    result = await adapter.set_quantities(updates, idempotency_key=key)
    seconds = time.perf_counter() - started
    await adapter.aclose()
    if len(result.applied) != len(updates):
        raise RuntimeError(f"adapter applied {len(result.applied)} of {len(updates)}: {result.failed[:3]}")
    return seconds


async def bench(n: int, rate_limits: bool, rounds: int | None = None) -> dict[str, Any]:
    rounds = default_rounds(rounds, rate_limits)
    quiet_logging()
    async with running_sandbox(
        "sandboxes.woocommerce", rate_limits, prefix="bench-woo-", configure=disable_webhooks
    ) as url:
        skus = bench_skus(n)
        async with httpx.AsyncClient(base_url=url, timeout=300) as c:
            await seed_listings(c, skus)
            rows = (await c.get("/_sandbox/listings", params={"limit": n + 100})).json()["listings"]
            ids = {r["sku"]: r["id"] for r in rows}

            # ids as a previous listing sync stored them: the requests the floor sends too
            async def adapter_run(r: int) -> float:
                warm = [QuantityUpdate(sku=s, quantity=10 + 2 * r, external_id=str(ids[s])) for s in skus]
                seconds = await _timed(_adapter(url, rate_limits), warm, f"bench-adapter-{r}")
                await c.post("/_sandbox/reset")  # a fresh host rate-limit window for the next run
                return seconds

            async def floor_run(r: int) -> float:
                seconds = await _floor(url, [ids[s] for s in skus], quantity=11 + 2 * r)
                await c.post("/_sandbox/reset")
                return seconds

            adapter_runs, floor_runs = await alternate(rounds, adapter_run, floor_run)
            cold = [QuantityUpdate(sku=s, quantity=9) for s in skus]
            cold_s = await _timed(_adapter(url, rate_limits), cold, "bench-cold")
    out = standard_result("woocommerce", n, adapter_runs, floor_runs)
    # SKUs only: the adapter also resolves SKU -> id (one lookup request per 100 SKUs)
    out["adapter_cold_seconds"] = round(cold_s, 3)
    out["adapter_cold_skus_per_s"] = round(n / cold_s, 1)
    if rate_limits:
        bound = WooOptions().rate_per_second * MAX_BATCH
        out["bound_skus_per_s"] = round(bound, 1)
        out["fraction_of_bound"] = round((n / min(adapter_runs)) / bound, 3)
    return out


if __name__ == "__main__":
    main("woocommerce", bench, [(100_000, False), (DEFAULT_LIMITED_N, True)])
