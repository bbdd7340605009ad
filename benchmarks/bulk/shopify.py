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
import json
import math
import os
import sys
import tempfile
import time
from typing import Any

import httpx
import structlog
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.adapter import SANDBOX_CREDENTIALS, ShopifyMarketplace
from connectors.marketplace.shopify.client import GRAPHQL_PATH, TOKEN_PATH
from connectors.marketplace.types import QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry
from merchflow.logging import configure_logging
from sandboxes.shopify.cost import BUCKET_SIZE, MUTATION_COST, RESTORE_RATE
from sandboxes.shopify.db import LOCATION_GID
from sandboxes.shopify.serve import free_port

DEFAULT_LIMITED_N = 100_000  # ~30 s per run at the bound
PER_CALL = 250
CONCURRENCY = 4


def bound(n: int) -> float:
    points = MUTATION_COST * math.ceil(n / PER_CALL)
    return n / max((points - BUCKET_SIZE) / RESTORE_RATE, 1e-9)


async def _start_sandbox(data_dir: str, rate_limits: bool) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    args = ["-m", "sandboxes.shopify.serve", "--port", str(port), "--data-dir", data_dir]
    args.append("--rate-limits" if rate_limits else "--no-rate-limits")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=root)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            try:
                if (await c.get(f"{url}/_sandbox/health")).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    proc.terminate()
    raise RuntimeError("Shopify sandbox did not start")


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
    rounds = rounds or (1 if rate_limits else 3)  # limited runs are paced by the bound, not by CPU noise
    if not structlog.is_configured():
        configure_logging("WARNING")  # per-request debug lines would be measured too
    with tempfile.TemporaryDirectory(prefix="bench-shopify-") as data_dir:
        proc, url = await _start_sandbox(data_dir, rate_limits)
        try:
            skus = [f"BENCH-{i:07d}" for i in range(n)]
            async with httpx.AsyncClient(base_url=url, timeout=300) as c:
                for i in range(0, n, 25_000):
                    listings = [
                        {"sku": s, "title": s, "price": "9.99", "quantity": 1} for s in skus[i : i + 25_000]
                    ]
                    (await c.post("/_sandbox/seed", json={"listings": listings})).raise_for_status()
                rows = (await c.get("/_sandbox/listings", params={"limit": n + 100})).json()["listings"]
                items = {r["sku"]: r["inventory_item_id"] for r in rows}
                adapter_runs: list[float] = []
                floor_runs: list[float] = []
                for r in range(rounds):  # alternate, new quantities each time: every update is a real change
                    await c.put("/_sandbox/shopify/bucket", json={"available": BUCKET_SIZE})
                    updates = [
                        QuantityUpdate(sku=s, quantity=10 + 2 * r, external_variant_id=items[s]) for s in skus
                    ]
                    adapter_runs.append(await _timed(url, rate_limits, updates, f"bench-adapter-{r}"))
                    await c.put("/_sandbox/shopify/bucket", json={"available": BUCKET_SIZE})
                    floor_runs.append(await _floor(url, [items[s] for s in skus], quantity=11 + 2 * r))
                duplicates = (await c.get("/_sandbox/effects/duplicates")).json()
        finally:
            proc.terminate()
            await proc.wait()
    if duplicates:
        raise RuntimeError(f"effects applied twice: {duplicates[:3]}")
    adapter_s, floor_s = min(adapter_runs), min(floor_runs)
    out: dict[str, Any] = {
        "marketplace": "shopify",
        "n": n,
        "adapter_seconds": round(adapter_s, 3),
        "adapter_skus_per_s": round(n / adapter_s, 1),
        "floor_seconds": round(floor_s, 3),
        "floor_skus_per_s": round(n / floor_s, 1),
        "ratio": round(floor_s / adapter_s, 3),
        "rounds": rounds,
        "adapter_seconds_all": [round(x, 3) for x in adapter_runs],
        "floor_seconds_all": [round(x, 3) for x in floor_runs],
    }
    if rate_limits:
        out["bound_skus_per_s"] = round(bound(n), 1)
        out["sustained_bound_skus_per_s"] = RESTORE_RATE / MUTATION_COST * PER_CALL
        out["fraction_of_bound"] = round((n / adapter_s) / bound(n), 3)
    return out


async def _main(argv: list[str]) -> None:
    if argv:
        runs = [(int(argv[0]), len(argv) > 1 and argv[1].lower() in ("on", "true", "1"))]
    else:
        runs = [(100_000, False), (DEFAULT_LIMITED_N, True)]
    results = [await bench(n, limited) for n, limited in runs]
    for r in results[:-1]:
        print(json.dumps(r))
    print(json.dumps(results[-1] if len(results) == 1 else {"shopify": results}))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
