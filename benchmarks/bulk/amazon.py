"""Set quantities for n SKUs on the Amazon sandbox: through AmazonMarketplace.set_quantities (JSON_LISTINGS_FEED
feeds of up to 25,000 messages, report-confirmed outcomes), then with a bare httpx loop sending the same requests
(LWA token, createFeedDocument, upload, createFeed, getFeed polls on the same schedule, getFeedDocument, report
download) with the same feed size and concurrency - the floor.

The sandbox runs in its own process (uvicorn, fresh temp db) with its feed delays shortened to 0.1 s IN_QUEUE +
0.1 s IN_PROGRESS (Amazon takes minutes), so the figures measure the work, not a simulated wait.

Limits on: the binding published limit is JSON_LISTINGS_FEED's 5 feeds per 5 minutes (1 per minute after a burst
of 5). With 25,000-message feeds that only binds above 125,000 SKUs, so for n <= 125,000 both runs use six feeds of
ceil(n / 6) messages: the sixth may only be created 60 s after the first, and the bound is n / 60 s. Client-side
limiting is on for the adapter; the floor only honours 429 + Retry-After.

    .venv/bin/python -m benchmarks.bulk.amazon               # n=100000 limits off, then n=100000 limits on
    .venv/bin/python -m benchmarks.bulk.amazon 20000 on
"""

from __future__ import annotations

import asyncio
import gzip
import json
import math
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
from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS, AmazonMarketplace
from connectors.marketplace.amazon.feeds import CONTENT_TYPE, FeedMessage, FeedRunner
from connectors.marketplace.amazon.limits import MAX_FEED_MESSAGES, feed_schedule
from connectors.marketplace.amazon.listings import quantity_value
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.types import QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry

DEFAULT_LIMITED_N = 100_000
LIMITED_FEEDS = 6  # one more than the feed-type burst: the smallest run the published limit actually bounds
SANDBOX_KNOBS = {"feed_queue_seconds": 0.1, "feed_progress_seconds": 0.1}
POLL = {"feed_poll_initial_seconds": 0.1, "feed_poll_factor": 1.5, "feed_poll_max_seconds": 1.0}
CONCURRENCY = AmazonOptions().feed_concurrency


async def _configure(c: httpx.AsyncClient, url: str) -> None:
    await disable_webhooks(c, url)
    knobs = {**(await c.get(f"{url}/_sandbox/amazon/config")).json(), **SANDBOX_KNOBS}
    (await c.put(f"{url}/_sandbox/amazon/config", json=knobs)).raise_for_status()


def _options(feed_messages: int) -> dict[str, Any]:
    return {"feed_max_messages": feed_messages, "timeout_seconds": 120, **POLL}


async def _floor(url: str, skus: list[str], quantity: int, feed_messages: int) -> float:
    """The same requests with nothing but httpx: no limiter, no outcome mapping, a naive 429 wait."""
    opts = AmazonOptions.model_validate(_options(feed_messages))
    seller = SANDBOX_CREDENTIALS["seller_id"]
    runner = FeedRunner(api=None, options=opts, seller_id=seller)  # type: ignore[arg-type]  # document() only
    sem = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def send(method: str, path: str, **kw: Any) -> httpx.Response:
            while True:
                r = await client.request(method, path, **kw)
                if r.status_code != 429:
                    r.raise_for_status()
                    return r
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))

        started = time.perf_counter()
        form = {k: SANDBOX_CREDENTIALS[k] for k in ("client_id", "client_secret", "refresh_token")}
        token = (await send("POST", "/auth/o2/token", data={"grant_type": "refresh_token", **form})).json()
        auth = {"x-amz-access-token": token["access_token"]}

        async def feed(chunk: list[str]) -> None:
            messages = [
                FeedMessage(s, "fulfillment_availability", quantity_value(quantity, opts), quantity)
                for s in chunk
            ]
            async with sem:
                body = runner.document(messages)
                doc = (
                    await send(
                        "POST",
                        "/feeds/2021-06-30/documents",
                        headers=auth,
                        json={"contentType": CONTENT_TYPE},
                    )
                ).json()
                await send("PUT", doc["url"], content=body, headers={"content-type": CONTENT_TYPE})
                spec = {
                    "feedType": "JSON_LISTINGS_FEED",
                    "marketplaceIds": [opts.marketplace_id],
                    "inputFeedDocumentId": doc["feedDocumentId"],
                }
                feed_id = (await send("POST", "/feeds/2021-06-30/feeds", headers=auth, json=spec)).json()[
                    "feedId"
                ]
                delay = opts.feed_poll_initial_seconds
                while True:
                    state = (await send("GET", f"/feeds/2021-06-30/feeds/{feed_id}", headers=auth)).json()
                    if state["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
                        break
                    await asyncio.sleep(delay)
                    delay = min(delay * opts.feed_poll_factor, opts.feed_poll_max_seconds)
                rdoc = (
                    await send(
                        "GET", f"/feeds/2021-06-30/documents/{state['resultFeedDocumentId']}", headers=auth
                    )
                ).json()
                raw = (await send("GET", rdoc["url"])).content
                report = json.loads(gzip.decompress(raw) if rdoc.get("compressionAlgorithm") else raw)
                if report["summary"]["messagesAccepted"] != len(chunk):
                    raise RuntimeError(f"floor feed {feed_id}: {report['summary']}")

        await asyncio.gather(*(feed(skus[i : i + feed_messages]) for i in range(0, len(skus), feed_messages)))
        return time.perf_counter() - started


async def _adapter_run(
    url: str, updates: list[QuantityUpdate], feed_messages: int, rate_limits: bool, key: str
) -> float:
    cfg = AccountConfig(
        marketplace="amazon",
        name="bench",
        base_url=url,
        options=_options(feed_messages),
        credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
    )
    adapter = AmazonMarketplace.from_config(cfg, RateLimiterRegistry(enabled=rate_limits))
    try:
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
    feed_messages = MAX_FEED_MESSAGES
    if rate_limits and n <= 5 * MAX_FEED_MESSAGES:
        feed_messages = math.ceil(n / LIMITED_FEEDS)
    quiet_logging()
    async with running_sandbox(
        "sandboxes.amazon", rate_limits, prefix="bench-amazon-", configure=_configure
    ) as url:
        skus = bench_skus(n)
        async with httpx.AsyncClient(base_url=url, timeout=300) as c:
            await seed_listings(c, skus)

            async def adapter_run(r: int) -> float:
                updates = [QuantityUpdate(sku=s, quantity=10 + 2 * r) for s in skus]
                seconds = await _adapter_run(url, updates, feed_messages, rate_limits, f"bench-{r}")
                await c.post("/_sandbox/amazon/rate-limits/reset")  # a fresh usage plan for the floor
                return seconds

            async def floor_run(r: int) -> float:
                seconds = await _floor(url, skus, 11 + 2 * r, feed_messages)
                await c.post("/_sandbox/amazon/rate-limits/reset")
                return seconds

            adapter_runs, floor_runs = await alternate(rounds, adapter_run, floor_run)
            check = (await c.get("/_sandbox/listings", params={"sku": skus[-1]})).json()["listings"][0]
            assert check["quantity"] == 11 + 2 * (rounds - 1), check
    feeds = math.ceil(n / feed_messages)
    out = standard_result("amazon", n, adapter_runs, floor_runs)
    out["feeds"] = feeds
    out["feed_messages"] = feed_messages
    if rate_limits:
        last_feed_at = feed_schedule(feeds)[-1]
        if last_feed_at > 0:
            bound = n / last_feed_at
            out["bound_skus_per_s"] = round(bound, 1)
            out["fraction_of_bound"] = round((n / min(adapter_runs)) / bound, 3)
        else:  # cannot happen with the feed sizing above; kept honest rather than dividing by zero
            out["bound_skus_per_s"] = None
            out["fraction_of_bound"] = None
    return out


if __name__ == "__main__":
    main("amazon", bench, [(100_000, False), (DEFAULT_LIMITED_N, True)])
