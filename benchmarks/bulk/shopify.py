"""Set quantities for n SKUs on the Shopify sandbox: through ShopifyMarketplace.set_quantities, then with a bare
httpx loop sending the same inventorySetQuantities requests (250 quantities each, same concurrency) - the floor.

The adapter is given the inventory item gids a previous listing sync stored (QuantityUpdate.external_variant_id), which
is exactly what the floor sends; resolving SKUs by search would add one query per 50 SKUs and is not what is
measured here.

The sandbox runs in its own process (uvicorn, fresh temp db) so client and server do not share a GIL. With
rate_limits=True the sandbox enforces Shopify's standard-plan budget (bucket 1,000 points, 100 restored per second;
inventorySetQuantities costs 10 points) and both runs start from a full bucket, so the bound for n SKUs is
n / ((10 x ceil(n / 250) - 1,000) / 100) SKUs/s (sustained: 100 / 10 x 250 = 2,500 SKUs/s). The floor only waits
when the shop answers THROTTLED.

    .venv/bin/python -m benchmarks.bulk.shopify            # n=100000 limits off, then n=100000 limits on
    .venv/bin/python -m benchmarks.bulk.shopify 20000 on
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.bulk.common import (
    alternate,
    bench_skus,
    default_rounds,
    main,
    quiet_logging,
    running_sandbox,
    seed_listings,
    standard_result,
)
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.adapter import SANDBOX_CREDENTIALS, ShopifyMarketplace
from connectors.marketplace.shopify.client import GRAPHQL_PATH, TOKEN_PATH
from connectors.marketplace.types import QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry
from sandboxes.shopify.cost import BUCKET_SIZE, MUTATION_COST, RESTORE_RATE
from sandboxes.shopify.db import LOCATION_GID

DEFAULT_LIMITED_N = 100_000  # ~30 s per run at the bound
PER_CALL = 250
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONCURRENCY = 4


def bound(n: int) -> float:
    points = MUTATION_COST * math.ceil(n / PER_CALL)
    return n / max((points - BUCKET_SIZE) / RESTORE_RATE, 1e-9)


def _serve_args(data_dir: str, rate_limits: bool) -> list[str]:
    # sandboxes.shopify.serve takes its settings as arguments, not MERCHFLOW_* variables
    return ["--data-dir", data_dir, "--rate-limits" if rate_limits else "--no-rate-limits"]


async def _floor(url: str, items: list[str], quantity: int) -> float:
    """The same requests with nothing but httpx: a token, the mutation, a wait only when THROTTLED."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    sem = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        token = (
            await client.post(TOKEN_PATH, data={"grant_type": "client_credentials", **SANDBOX_CREDENTIALS})
        ).json()
        client.headers["X-Shopify-Access-Token"] = token["access_token"]

        async def send(n: int, chunk: list[str]) -> None:
            quantities = [
                {"inventoryItemId": i, "locationId": LOCATION_GID, "quantity": quantity} for i in chunk
            ]
            body = {
                "query": docs.SET_QUANTITIES.text,
                "operationName": docs.SET_QUANTITIES.name,
                "variables": {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True,
                                        "quantities": quantities}},
            }  # fmt: skip
            async with sem:
                while True:
                    r = await client.post(
                        GRAPHQL_PATH, json=body, headers={"Idempotency-Key": f"floor-{quantity}-{n}"}
                    )
                    r.raise_for_status()
                    answer = r.json()
                    if "data" in answer:
                        assert not answer["data"]["inventorySetQuantities"]["userErrors"]
                        return
                    cost = answer["extensions"]["cost"]
                    status = cost["throttleStatus"]
                    await asyncio.sleep(
                        (cost["requestedQueryCost"] - status["currentlyAvailable"]) / status["restoreRate"]
                    )

        started = time.perf_counter()
        await asyncio.gather(
            *(send(n, items[i : i + PER_CALL]) for n, i in enumerate(range(0, len(items), PER_CALL)))
        )
        return time.perf_counter() - started


def _adapter(url: str, rate_limits: bool) -> ShopifyMarketplace:
    cfg = AccountConfig(
        marketplace="shopify",
        name="bench",
        base_url=url,
        options={"location_id": LOCATION_GID, "quantities_per_call": PER_CALL, "concurrency": CONCURRENCY},
        credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
        timeout_seconds=60,
    )
    return ShopifyMarketplace.from_config(cfg, RateLimiterRegistry(enabled=rate_limits))


async def _timed(url: str, rate_limits: bool, updates: list[QuantityUpdate], key: str) -> float:
    adapter = _adapter(url, rate_limits)
    try:
        await adapter.gql.refresh(force=False)  # the token, like the floor's, is not part of the measure
        await adapter._shop()
        started = time.perf_counter()
        result = await adapter.set_quantities(updates, idempotency_key=key)
        seconds = time.perf_counter() - started
    finally:
        await adapter.aclose()
    if len(result.applied) != len(updates):
        raise RuntimeError(f"adapter applied {len(result.applied)} of {len(updates)}: {result.failed[:3]}")
    return seconds


async def bench(n: int, rate_limits: bool, rounds: int | None = None) -> dict[str, Any]:
    rounds = default_rounds(rounds, rate_limits)
    quiet_logging()
    async with running_sandbox(
        "sandboxes.shopify.serve",
        rate_limits,
        prefix="bench-shopify-",
        extra_args=lambda data_dir: _serve_args(data_dir, rate_limits),
        env=os.environ,
        cwd=ROOT,
    ) as url:
        skus = bench_skus(n)
        async with httpx.AsyncClient(base_url=url, timeout=300) as c:
            await seed_listings(c, skus)
            rows = (await c.get("/_sandbox/listings", params={"limit": n + 100})).json()["listings"]
            items = {r["sku"]: r["inventory_item_id"] for r in rows}

            async def adapter_run(r: int) -> float:
                await c.put("/_sandbox/shopify/bucket", json={"available": BUCKET_SIZE})
                updates = [
                    QuantityUpdate(sku=s, quantity=10 + 2 * r, external_variant_id=items[s]) for s in skus
                ]
                return await _timed(url, rate_limits, updates, f"bench-adapter-{r}")

            async def floor_run(r: int) -> float:
                await c.put("/_sandbox/shopify/bucket", json={"available": BUCKET_SIZE})
                return await _floor(url, [items[s] for s in skus], quantity=11 + 2 * r)

            adapter_runs, floor_runs = await alternate(rounds, adapter_run, floor_run)
            duplicates = (await c.get("/_sandbox/effects/duplicates")).json()
    if duplicates:
        raise RuntimeError(f"effects applied twice: {duplicates[:3]}")
    out = standard_result("shopify", n, adapter_runs, floor_runs)
    if rate_limits:
        out["bound_skus_per_s"] = round(bound(n), 1)
        out["sustained_bound_skus_per_s"] = RESTORE_RATE / MUTATION_COST * PER_CALL
        out["fraction_of_bound"] = round((n / min(adapter_runs)) / bound(n), 3)
    return out


if __name__ == "__main__":
    main("shopify", bench, [(100_000, False), (DEFAULT_LIMITED_N, True)])
