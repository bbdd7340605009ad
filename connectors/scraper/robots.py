"""robots.txt, cached per origin, interpreted per RFC 9309: 4xx = no rules, 5xx / unreachable = disallow all."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# (url) -> (status, text); the scraper passes its guarded, rate-limited fetch
RobotsFetch = Callable[[str], Awaitable[tuple[int, str]]]


class RobotsCache:
    def __init__(self, fetch: RobotsFetch, user_agent: str, ttl_seconds: float = 3600) -> None:
        self.fetch = fetch
        self.user_agent = user_agent
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, RobotFileParser | bool]] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._cache.get(origin)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            entry = (time.monotonic(), await self._load(origin))
            self._cache[origin] = entry
        rules = entry[1]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.user_agent, url)

    async def _load(self, origin: str) -> RobotFileParser | bool:
        try:
            status, text = await self.fetch(origin + "/robots.txt")
        except Exception:
            return False  # unreachable: be safe
        if 400 <= status < 500:
            return True
        if status >= 500:
            return False
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        return parser
