"""Fixtures: the eBay sandbox in-process (ASGI) or on a real uvicorn port, adapters wired to it through a capturing
transport, and a contract check of every exchange after each test (when ../shared/specs is present)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from pydantic import SecretStr

from connectors.marketplace.ebay.adapter import SANDBOX_CREDENTIALS, EbayMarketplace
from connectors.ratelimit import RateLimiterRegistry
from merchflow.settings import SandboxSettings, Settings
from sandboxes.common.state import FaultConfig, WebhookTarget
from sandboxes.ebay.app import create_app
from tests.conftest import IN_CI, specs_dir
from tests.connectors.ebay.contract import CapturingTransport, SpecValidator, Violation

SPEC_MISSING = (
    "eBay Sell Inventory spec not found: set MERCHFLOW_SPECS_DIR or place shared/specs next to the project "
    "(ebay/sell_inventory_v1_oas3.json)"
)


@pytest.fixture(scope="session")
def ebay_spec() -> SpecValidator | None:
    d = specs_dir()
    if d is None or not (d / "ebay" / "sell_inventory_v1_oas3.json").is_file():
        if IN_CI:
            pytest.fail(SPEC_MISSING)
        return None
    return SpecValidator.load(d)


@dataclass
class EbaySandboxHarness:
    app: FastAPI
    base_url: str
    capture: CapturingTransport
    adapters: list[EbayMarketplace] = field(default_factory=list)

    def adapter(self, *, rate_limits: bool = False, **options: Any) -> EbayMarketplace:
        opts = {"category_id": "9355", "listing_prices": True, **options}
        m = EbayMarketplace(
            account="sandbox",
            base_url=self.base_url,
            credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
            options=opts,
            limiter=RateLimiterRegistry(enabled=rate_limits),
            timeout=float(options.get("timeout", 10.0)),
            http_transport=self.capture,
        )
        self.adapters.append(m)
        return m

    def control(self) -> httpx.AsyncClient:
        # /_sandbox calls bypass the capture: they are not eBay's API
        inner = self.capture.inner
        return httpx.AsyncClient(transport=_NoClose(inner), base_url=self.base_url, timeout=30)

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async with self.control() as c:
            return await c.request(method, path, **kw)

    async def seed(self, listings: list[dict[str, Any]], replace: bool = True) -> None:
        r = await self.call("POST", "/_sandbox/seed", json={"listings": listings, "replace": replace})
        r.raise_for_status()

    async def truth(self, sku: str) -> dict[str, Any] | None:
        rows = (await self.call("GET", "/_sandbox/listings", params={"sku": sku})).json()["listings"]
        return rows[0] if rows else None

    async def faults(self, **kw: Any) -> None:
        self.app.state.sandbox.set_faults(FaultConfig(**{**self.app.state.sandbox.faults.model_dump(), **kw}))

    async def config(self, **kw: Any) -> None:
        current = (await self.call("GET", "/_sandbox/ebay/config")).json()
        (await self.call("PUT", "/_sandbox/ebay/config", json={**current, **kw})).raise_for_status()

    async def requests(self, path: str = "/sell") -> list[dict[str, Any]]:
        return (await self.call("GET", "/_sandbox/requests", params={"path": path, "limit": 100000})).json()

    async def duplicates(self) -> list[dict[str, Any]]:
        return (await self.call("GET", "/_sandbox/effects/duplicates")).json()

    def exchanges(self, path_part: str) -> list[Any]:
        return [e for e in self.capture.exchanges if path_part in e.request.url.path]


class _NoClose(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)


def sandbox_settings(tmp_path: Path, *, rate_limits: bool = True) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=False,
        sandbox=SandboxSettings(rate_limits=rate_limits),
    )


def _assert_contract(spec: SpecValidator | None, capture: CapturingTransport) -> None:
    if spec is None:
        return
    problems: list[Violation] = []
    for ex in capture.exchanges:
        if spec.covers(ex.request):
            problems.extend(spec.check(ex))
    assert not problems, "eBay contract violations:\n" + "\n".join(
        f"{p.where}: {p.problem}" for p in problems
    )


@pytest.fixture
async def ebay(tmp_path: Path, ebay_spec: SpecValidator | None) -> AsyncIterator[EbaySandboxHarness]:
    """In-process sandbox; server-side rate limits off (tests that want them turn them on)."""
    app = create_app(sandbox_settings(tmp_path, rate_limits=False))
    app.state.sandbox.webhook = WebhookTarget(url=None)
    capture = CapturingTransport(httpx.ASGITransport(app=app))
    harness = EbaySandboxHarness(app=app, base_url="http://ebay.sandbox", capture=capture)
    yield harness
    for m in harness.adapters:
        await m.aclose()
    app.state.sandbox.store.close()
    _assert_contract(ebay_spec, capture)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(app: Any, port: int | None = None) -> LiveServer:
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return LiveServer(server, thread, f"http://127.0.0.1:{port}")


@pytest.fixture
async def live_ebay(tmp_path: Path, ebay_spec: SpecValidator | None) -> AsyncIterator[EbaySandboxHarness]:
    """The sandbox on a real uvicorn port (real sockets: timeouts, webhooks)."""
    app = create_app(sandbox_settings(tmp_path, rate_limits=False))
    app.state.sandbox.webhook = WebhookTarget(url=None)
    live = serve(app)
    capture = CapturingTransport(httpx.AsyncHTTPTransport())
    harness = EbaySandboxHarness(app=app, base_url=live.url, capture=capture)
    yield harness
    for m in harness.adapters:
        await m.aclose()
    await capture.inner.aclose()
    await asyncio.to_thread(live.stop)
    app.state.sandbox.store.close()
    _assert_contract(ebay_spec, capture)


@pytest.fixture
def listings() -> Callable[..., list[dict[str, Any]]]:
    def make(n: int, prefix: str = "SKU", quantity: int = 5, price: str = "10.00") -> list[dict[str, Any]]:
        return [
            {"sku": f"{prefix}-{i:06d}", "title": f"Item {i}", "price": price, "quantity": quantity}
            for i in range(n)
        ]

    return make


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A tiny webhook receiver on a real port: (url, received[(headers, body)])."""
    got: list[tuple[dict[str, str], bytes]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        got.append((dict(request.headers), await request.body()))
        return {"ok": "yes"}

    live = serve(app)
    yield f"{live.url}/hook", got
    live.stop()
