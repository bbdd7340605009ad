"""Client-side rate limiting per (marketplace, account, operation): an async token bucket.

Buckets start from the published limits and learn from the marketplace's answers: `Retry-After` pauses the bucket,
`x-amzn-RateLimit-Limit` resets its rate, Shopify's `throttleStatus` sets the available cost points. One process-wide
registry, so every activity of a worker shares the same budget per account.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens per second; math.inf disables limiting
    burst: float
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)
    paused_until: float = 0.0
    labels: tuple[str, str] | None = None  # (marketplace, operation) for the rate-limit wait metric
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    @property
    def unlimited(self) -> bool:
        return math.isinf(self.rate)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay_for(self, cost: float = 1.0, now: float | None = None) -> float:
        """Seconds to wait before `cost` tokens are available (0 if available now); no state change."""
        if self.unlimited:
            return max(0.0, self.paused_until - (now or time.monotonic()))
        now = time.monotonic() if now is None else now
        tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        wait = max(0.0, (cost - tokens) / self.rate) if self.rate > 0 else math.inf
        return max(wait, self.paused_until - now)

    async def acquire(self, cost: float = 1.0) -> float:
        """Take `cost` tokens, sleeping as needed. Returns the time waited (also a metric)."""
        started = time.monotonic()
        waited = await self._acquire(cost)
        elapsed = time.monotonic() - started  # sleeps plus the queue on the lock
        if elapsed > 0.001 and self.labels is not None:
            from merchflow.telemetry.metrics import RATE_LIMIT_WAIT

            RATE_LIMIT_WAIT.labels(*self.labels).observe(elapsed)
        return waited

    async def _acquire(self, cost: float) -> float:
        if self.unlimited and self.paused_until <= 0:
            return 0.0
        cost = min(cost, self.burst) if not self.unlimited else cost
        waited = 0.0
        async with self._lock:  # FIFO-ish fairness: waiters queue on the lock
            while True:
                now = time.monotonic()
                if now < self.paused_until:
                    d = self.paused_until - now
                elif self.unlimited:
                    return waited
                else:
                    self._refill(now)
                    if self.tokens >= cost:
                        self.tokens -= cost
                        return waited
                    d = (cost - self.tokens) / self.rate
                await asyncio.sleep(d)
                waited += d

    def pause(self, seconds: float) -> None:
        """The marketplace said to wait (Retry-After): nobody sends on this bucket until then."""
        until = time.monotonic() + max(0.0, seconds)
        self.paused_until = max(self.paused_until, until)
        if not self.unlimited:
            self.tokens = 0.0
            self.updated = time.monotonic()

    def set_rate(self, rate: float, burst: float | None = None) -> None:
        now = time.monotonic()
        if not self.unlimited:
            self._refill(now)
        self.rate = rate
        if burst is not None:
            self.burst = burst
            self.tokens = min(self.tokens, burst)

    def set_available(self, tokens: float, rate: float | None = None) -> None:
        """The marketplace told us exactly how much budget is left (Shopify throttleStatus)."""
        self.tokens = min(self.burst, tokens)
        self.updated = time.monotonic()
        if rate is not None:
            self.rate = rate


class RateLimiterRegistry:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def bucket(
        self, marketplace: str, account: str, operation: str, *, rate: float, burst: float
    ) -> TokenBucket:
        key = (marketplace, account, operation)
        b = self._buckets.get(key)
        if b is None:
            b = TokenBucket(
                rate=rate if self.enabled else math.inf, burst=burst, labels=(marketplace, operation)
            )
            self._buckets[key] = b
        return b


# Process-wide default registry; tests and benchmarks may build their own.
REGISTRY = RateLimiterRegistry()
