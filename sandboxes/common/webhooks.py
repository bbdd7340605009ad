"""Webhook delivery from a sandbox to the engine, signed by the sandbox's own scheme, retried a few times."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import structlog

log = structlog.get_logger("sandboxes.webhooks")

# body bytes -> headers carrying the signature (and topic / event id headers the real marketplace sends)
Signer = Callable[[bytes, dict[str, str]], dict[str, str]]


class WebhookEmitter:
    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0

    def emit(self, url: str | None, payload: dict[str, Any], headers: dict[str, str], sign: Signer) -> None:
        """Fire and forget (like the real thing): the API call that caused the event does not wait for delivery."""
        if not url:
            return
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        all_headers = {"content-type": "application/json", **headers}
        all_headers.update(sign(body, all_headers))
        task = asyncio.get_running_loop().create_task(self._deliver(url, body, all_headers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        for attempt in range(5):
            try:
                r = await self._client.post(url, content=body, headers=headers)
                if r.status_code < 500 and r.status_code != 429:
                    self.delivered += 1
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2 * 2**attempt)
        self.failed += 1
        log.warning("webhook delivery failed", url=url)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()
