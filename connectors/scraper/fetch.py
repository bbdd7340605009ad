"""Page fetchers: plain httpx, or headless system Chromium through Playwright for pages that need JavaScript.

Redirects are followed by hand so that every hop passes the private-address guard.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

import httpx

from connectors.scraper.guard import ScrapeRefused, check_url


@dataclass
class FetchedPage:
    url: str
    status: int
    text: str


class PageFetcher(Protocol):
    async def fetch(self, url: str) -> FetchedPage: ...
    async def aclose(self) -> None: ...


class HttpPageFetcher:
    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        max_bytes: int,
        allowed_private_hosts: list[str],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.allowed = allowed_private_hosts
        self.client = httpx.AsyncClient(
            headers={"user-agent": user_agent, "accept": "text/html,application/xhtml+xml"},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    async def fetch(self, url: str) -> FetchedPage:
        for _ in range(5):
            await check_url(url, allowed_private_hosts=self.allowed)
            async with self.client.stream("GET", url) as r:
                if r.is_redirect and "location" in r.headers:
                    url = urljoin(url, r.headers["location"])
                    continue
                chunks, size = [], 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ScrapeRefused(f"page larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
                body = b"".join(chunks)
                return FetchedPage(
                    str(r.url), r.status_code, body.decode(r.encoding or "utf-8", errors="replace")
                )
        raise ScrapeRefused("too many redirects")

    async def aclose(self) -> None:
        await self.client.aclose()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class BrowserPageFetcher:
    """Headless system Chromium (never a downloaded browser). One browser per worker, one context per page."""

    def __init__(
        self, *, executable: str, user_agent: str, timeout: float, allowed_private_hosts: list[str]
    ) -> None:
        self.executable = executable
        self.user_agent = user_agent
        self.timeout_ms = timeout * 1000
        self.allowed = allowed_private_hosts
        self._pw: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> Any:
        async with self._lock:
            if self._browser is None:
                from playwright.async_api import async_playwright

                self._pw = await async_playwright().start()
                self._browser = await self._pw.chromium.launch(
                    executable_path=self.executable, headless=True, args=CHROMIUM_ARGS
                )
        return self._browser

    async def fetch(self, url: str) -> FetchedPage:
        await check_url(url, allowed_private_hosts=self.allowed)
        browser = await self._ensure()
        context = await browser.new_context(user_agent=self.user_agent, java_script_enabled=True)
        try:
            page = await context.new_page()

            async def guard(route: Any) -> None:
                # every sub-request (scripts, XHR, redirects) passes the same private-address guard
                try:
                    await check_url(route.request.url, allowed_private_hosts=self.allowed)
                except ScrapeRefused:
                    await route.abort()
                    return
                await route.continue_()

            await page.route("**/*", guard)
            response = await page.goto(url, wait_until="networkidle", timeout=self.timeout_ms)
            html = await page.content()
            return FetchedPage(page.url, response.status if response else 0, html)
        finally:
            await context.close()

    async def aclose(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            await self._pw.stop()
            self._browser = None
