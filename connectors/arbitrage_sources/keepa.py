"""A Keepa-style price-history service (api.keepa.com `GET /product`), used only when a key is configured.

Keepa answers per ASIN a `csv` array per price type, each a flat list of (Keepa minute, value) pairs: index 1 is
the New price in cents (-1: no offer), and `stats.salesRankDrops30` counts sales-rank drops in 30 days, the usual
proxy for sales. Every product costs a token; tokens refill per minute by plan (`tokens_per_minute`), so the
client-side bucket holds the plan's rate and a 429 pauses it for the advertised `refillIn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from connectors.errors import ConnectorError, RateLimited
from connectors.http import HttpTransport
from connectors.ratelimit import RateLimiterRegistry

KEEPA_EPOCH = datetime(2011, 1, 1, tzinfo=UTC)
NEW = 1
MAX_ASINS = 100  # per request


@dataclass(frozen=True)
class History:
    asin: str
    prices: list[Decimal]  # New price points of the last `days`, oldest first
    sales_30d: int | None


def _classify(response: httpx.Response, operation: str) -> ConnectorError | None:
    if response.status_code == 429:
        try:
            wait = float(response.json().get("refillIn", 60000)) / 1000
        except ValueError:
            wait = 60.0
        return RateLimited("keepa tokens exhausted", operation=operation, retry_after=wait)
    return None


def new_prices(csv: list[list[int] | None], *, since: datetime) -> list[Decimal]:
    series = csv[NEW] if len(csv) > NEW and csv[NEW] else []
    floor = (since - KEEPA_EPOCH).total_seconds() / 60
    return [Decimal(v) / 100 for t, v in zip(series[::2], series[1::2], strict=False) if t >= floor and v > 0]


class KeepaClient:
    def __init__(self, *, key: str, limiter: RateLimiterRegistry, base_url: str = "https://api.keepa.com",
                 tokens_per_minute: float = 20.0, domain: int = 1, days: int = 90,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:  # fmt: skip
        self.key, self.domain, self.days = key, domain, days
        self.http = HttpTransport(marketplace="keepa", account="default", base_url=base_url, classify=_classify,
                                  transport=transport)  # fmt: skip
        self.bucket = limiter.bucket(
            "keepa", "default", "product", rate=tokens_per_minute / 60, burst=tokens_per_minute
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def histories(self, asins: Sequence[str]) -> dict[str, History]:
        out: dict[str, History] = {}
        since = datetime.now(UTC) - timedelta(days=self.days)
        for i in range(0, len(asins), MAX_ASINS):
            part = list(asins[i : i + MAX_ASINS])
            r = await self.http.request(
                "GET", "/product", operation="product", bucket=self.bucket, cost=len(part),
                params={"key": self.key, "domain": self.domain, "asin": ",".join(part), "stats": self.days},
            )  # fmt: skip
            for p in r.json().get("products") or []:
                stats = p.get("stats") or {}
                drops = stats.get("salesRankDrops30")
                out[p["asin"]] = History(
                    asin=p["asin"],
                    prices=new_prices(p.get("csv") or [], since=since),
                    sales_30d=int(drops) if isinstance(drops, int) and drops >= 0 else None,
                )
        return out
