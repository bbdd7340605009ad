"""Fixtures: the WooCommerce sandbox in-process (ASGI) or on a real uvicorn port, adapters wired to it through a
contract-checking transport, and a webhook receiver."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS, WooCommerceMarketplace
from connectors.ratelimit import RateLimiterRegistry
from merchflow.settings import SandboxSettings, Settings
from sandboxes.woocommerce.app import create_app
from tests.connectors.woocommerce.contract import Recorder


@dataclass
class Sandbox:
    app: FastAPI
    base_url: str
    transport: httpx.AsyncBaseTransport
    recorder: Recorder
    adapters: list[WooCommerceMarketplace] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.recorder, base_url=self.base_url, timeout=30)

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async with self.client as c:
            return await c.request(method, path, **kw)

    async def woo(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """A raw, authenticated WooCommerce API call (checked against the contract like the adapter's)."""
        auth = (SANDBOX_CREDENTIALS["consumer_key"], SANDBOX_CREDENTIALS["consumer_secret"])
        return await self.call(method, "/wp-json/wc/v3" + path, auth=auth, **kw)

    async def seed(self, listings: list[dict[str, Any]], replace: bool = False) -> int:
        r = await self.call("POST", "/_sandbox/seed", json={"listings": listings, "replace": replace})
        r.raise_for_status()
        return int(r.json()["created"])

    async def buy(self, sku: str, quantity: int = 1, order_id: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"sku": sku, "quantity": quantity}
        if order_id:
            body["order_id"] = order_id
        return await self.call("POST", "/_sandbox/orders", json=body)

    async def truth(self, *skus: str) -> dict[str, dict[str, Any]]:
        r = await self.call("GET", "/_sandbox/listings", params={"sku": ",".join(skus)} if skus else None)
        return {row["sku"]: row for row in r.json()["listings"]}

    async def faults(self, **kw: Any) -> None:
        current = (await self.call("GET", "/_sandbox/faults")).json()
        (await self.call("PUT", "/_sandbox/faults", json={**current, **kw})).raise_for_status()

    async def config(self, **kw: Any) -> None:
        current = (await self.call("GET", "/_sandbox/config")).json()
        (await self.call("PUT", "/_sandbox/config", json={**current, **kw})).raise_for_status()

    async def requests(self, path: str = "/wp-json", *, mutating: bool = False) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"path": path, "limit": 100000}
        if mutating:
            params["mutating"] = "true"
        return (await self.call("GET", "/_sandbox/requests", params=params)).json()

    async def duplicates(self) -> list[dict[str, Any]]:
        return (await self.call("GET", "/_sandbox/effects/duplicates")).json()

    async def effects(self, entity: str | None = None) -> list[dict[str, Any]]:
        params = {"entity": entity} if entity else {}
        return (await self.call("GET", "/_sandbox/effects", params=params)).json()

    def adapter(
        self,
        *,
        options: dict[str, Any] | None = None,
        limiter: RateLimiterRegistry | None = None,
        credentials: dict[str, str] | None = None,
        timeout: float = 30.0,
        name: str = "test",
    ) -> WooCommerceMarketplace:
        creds = {**SANDBOX_CREDENTIALS, **(credentials or {})}
        cfg = AccountConfig(
            marketplace="woocommerce",
            name=name,
            base_url=self.base_url,
            options={"rate_per_second": 0, **(options or {})},
            credentials={k: SecretStr(v) for k, v in creds.items()},
            timeout_seconds=timeout,
        )
        mp = WooCommerceMarketplace.from_config(
            cfg, limiter or RateLimiterRegistry(enabled=False), transport=self.recorder
        )
        self.adapters.append(mp)
        return mp


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=False,
        sandbox=SandboxSettings(rate_limits=False),
    )


async def _finish(sb: Sandbox) -> None:
    for mp in sb.adapters:
        await mp.aclose()  # the Recorder ignores close: the fixture owns the inner transport
    await sb.transport.aclose()
    assert not sb.recorder.violations, "contract violations:\n" + "\n".join(sb.recorder.violations[:20])


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """In-process sandbox (httpx.ASGITransport): fast, no sockets. Webhooks off unless a test sets a target."""
    app = create_app(_settings(tmp_path), site_url="http://testserver")
    app.state.sandbox.webhook.url = None
    recorder = Recorder(httpx.ASGITransport(app=app))
    sb = Sandbox(app=app, base_url="http://testserver", transport=recorder.inner, recorder=recorder)
    yield sb
    await _finish(sb)
    app.state.sandbox.store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """A real uvicorn server on a free port in a background thread (its own event loop)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Receiver:
    """Stands in for the engine's webhook endpoint: keeps raw bodies and headers exactly as delivered."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> dict[str, str]:
            self.deliveries.append((dict(request.headers), await request.body()))
            return {"ok": "yes"}

        return app

    async def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        # deliveries arrive on the server thread's loop: poll
        while len(self.deliveries) < n and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
async def live_sandbox(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, Receiver]]:
    """The sandbox on a real port, delivering webhooks over HTTP to a real receiver."""
    receiver = Receiver()
    with ServerThread(receiver.app()) as hook_server:
        port = free_port()
        app = create_app(_settings(tmp_path), site_url=f"http://127.0.0.1:{port}")
        app.state.sandbox.webhook.url = f"{hook_server.url}/hook"
        with ServerThread(app, port) as server:
            recorder = Recorder(httpx.AsyncHTTPTransport())
            sb = Sandbox(app=app, base_url=server.url, transport=recorder.inner, recorder=recorder)
            yield sb, receiver
            await _finish(sb)
