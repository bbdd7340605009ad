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
import json
import os
import socket
import sys
import tempfile
import time
from typing import Any

import httpx
import structlog
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.types import QuantityUpdate
from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS, WooCommerceMarketplace
from connectors.marketplace.woocommerce.bulk import MAX_BATCH
from connectors.marketplace.woocommerce.options import WooOptions
from connectors.ratelimit import RateLimiterRegistry
from merchflow.logging import configure_logging

DEFAULT_LIMITED_N = 20_000  # ~20 s at the 1,000 SKUs/s bound
CONCURRENCY = WooOptions().concurrency
PATH = "/wp-json/wc/v3/products/batch"
AUTH = (SANDBOX_CREDENTIALS["consumer_key"], SANDBOX_CREDENTIALS["consumer_secret"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_sandbox(data_dir: str, rate_limits: bool) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    env = {
        **os.environ,
        "MERCHFLOW_DATA_DIR": data_dir,
        "MERCHFLOW_ENVIRONMENT": "test",
        "MERCHFLOW_SANDBOX__RATE_LIMITS": "true" if rate_limits else "false",
        "MERCHFLOW_LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandboxes.woocommerce", "--port", str(port), env=env, cwd=data_dir
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            try:
                if (await c.get(f"{url}/_sandbox/health")).status_code == 200:
                    # no engine listens for the 100k product.updated webhooks this run would cause
                    (await c.put(f"{url}/_sandbox/webhooks", json={"url": None})).raise_for_status()
                    return proc, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    proc.terminate()
    raise RuntimeError("WooCommerce sandbox did not start")


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
    rounds = rounds or (1 if rate_limits else 3)  # limited runs are paced by the bound, not by CPU noise
    if not structlog.is_configured():
        configure_logging("WARNING")  # per-request debug lines would be measured too
    with tempfile.TemporaryDirectory(prefix="bench-woo-") as data_dir:
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
                ids = {r["sku"]: r["id"] for r in rows}
                # ids as a previous listing sync stored them: the requests the floor sends too. Rounds alternate
                # adapter and floor (new quantities each time, so every update is a real change) and the best of
                # each counts: the machine is shared, and a burst of someone else's work should not decide it.
                adapter_runs: list[float] = []
                floor_runs: list[float] = []
                for r in range(rounds):
                    warm = [QuantityUpdate(sku=s, quantity=10 + 2 * r, external_id=str(ids[s])) for s in skus]
                    adapter_runs.append(await _timed(_adapter(url, rate_limits), warm, f"bench-adapter-{r}"))
                    await c.post("/_sandbox/reset")  # a fresh host rate-limit window for the next run
                    floor_runs.append(await _floor(url, [ids[s] for s in skus], quantity=11 + 2 * r))
                    await c.post("/_sandbox/reset")
                cold = [QuantityUpdate(sku=s, quantity=9) for s in skus]
                cold_s = await _timed(_adapter(url, rate_limits), cold, "bench-cold")
        finally:
            proc.terminate()
            await proc.wait()
    adapter_s, floor_s = min(adapter_runs), min(floor_runs)
    out: dict[str, Any] = {
        "marketplace": "woocommerce",
        "n": n,
        "adapter_seconds": round(adapter_s, 3),
        "adapter_skus_per_s": round(n / adapter_s, 1),
        "floor_seconds": round(floor_s, 3),
        "floor_skus_per_s": round(n / floor_s, 1),
        "ratio": round(floor_s / adapter_s, 3),
        "rounds": rounds,
        "adapter_seconds_all": [round(x, 3) for x in adapter_runs],
        "floor_seconds_all": [round(x, 3) for x in floor_runs],
        # SKUs only: the adapter also resolves SKU -> id (one lookup request per 100 SKUs)
        "adapter_cold_seconds": round(cold_s, 3),
        "adapter_cold_skus_per_s": round(n / cold_s, 1),
    }
    if rate_limits:
        bound = WooOptions().rate_per_second * MAX_BATCH
        out["bound_skus_per_s"] = round(bound, 1)
        out["fraction_of_bound"] = round((n / adapter_s) / bound, 3)
    return out


async def _main(argv: list[str]) -> None:
    if argv:
        runs = [(int(argv[0]), len(argv) > 1 and argv[1].lower() in ("on", "true", "1"))]
    else:
        runs = [(100_000, False), (DEFAULT_LIMITED_N, True)]
    results = [await bench(n, limited) for n, limited in runs]
    for r in results[:-1]:
        print(json.dumps(r))
    print(json.dumps(results[-1] if len(results) == 1 else {"woocommerce": results}))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
