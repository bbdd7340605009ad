"""Fixtures for the Amazon adapter tests: the sandbox in-process (httpx.ASGITransport) or on a real uvicorn port,
adapters whose every request and answer is recorded and checked against the SP-API models at teardown."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from connectors.marketplace.amazon.adapter import SANDBOX_CREDENTIALS, AmazonMarketplace
from connectors.marketplace.config import AccountConfig
from connectors.ratelimit import RateLimiterRegistry
from merchflow.settings import Settings
from sandboxes.amazon.app import create_app
from sandboxes.amazon.common import AmazonSandbox
from sandboxes.common.state import FaultConfig, WebhookTarget
from tests.conftest import IN_CI, specs_dir
from tests.connectors.amazon.recorder import RecordingTransport, contract_violations
from tests.connectors.amazon.spec import SpApiContract

FAST_KNOBS = {"feed_queue_seconds": 0.02, "feed_progress_seconds": 0.02}
# quantity_patch_max_skus=0: these tests exercise the feed path even for a few SKUs (the patch path is the default
# for small batches; tests/stock covers it end to end)
FAST_OPTIONS = {
    "feed_poll_initial_seconds": 0.02,
    "feed_poll_max_seconds": 0.1,
    "max_retries": 4,
    "quantity_patch_max_skus": 0,
}


@pytest.fixture(scope="session")
def contract() -> SpApiContract | None:
    d = specs_dir()
    if d is None or not (d / "amazon-sp-api").is_dir():
        if IN_CI:
            pytest.fail("shared/specs/amazon-sp-api is missing: contract checks must run in CI")
        return None
    return SpApiContract(d / "amazon-sp-api")


@pytest.fixture
def require_contract(contract: SpApiContract | None) -> SpApiContract:
    if contract is None:
        pytest.skip("SP-API models not found: set MERCHFLOW_SPECS_DIR or check out ../shared/specs")
    return contract


def sandbox_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=False,
        sandbox={"rate_limits": False, "webhook_base_url": "http://127.0.0.1:9"},  # type: ignore[arg-type]
    )


@dataclass
class AmazonEnv:
    app: FastAPI
    base_url: str
    transport_factory: Any  # () -> httpx.AsyncBaseTransport reaching the sandbox
    recorders: list[RecordingTransport] = field(default_factory=list)
    adapters: list[AmazonMarketplace] = field(default_factory=list)

    @property
    def sbx(self) -> AmazonSandbox:
        return self.app.state.amazon  # type: ignore[no-any-return]

    @property
    def exchanges(self) -> list[Any]:
        return [e for r in self.recorders for e in r.exchanges]

    def adapter(
        self, *, rate_limits: bool = False, credentials: dict[str, str] | None = None, **options: Any
    ) -> tuple[AmazonMarketplace, RecordingTransport]:
        recorder = RecordingTransport(self.transport_factory())
        cfg = AccountConfig(
            marketplace="amazon",
            name="test",
            base_url=self.base_url,
            options={**FAST_OPTIONS, **options},
            credentials=credentials or SANDBOX_CREDENTIALS,  # type: ignore[arg-type]
        )
        mp = AmazonMarketplace(cfg, RateLimiterRegistry(enabled=rate_limits), transport=recorder)
        self.recorders.append(recorder)
        self.adapters.append(mp)
        return mp, recorder

    def webhooks_to(self, url: str | None) -> None:
        self.sbx.state.webhook = WebhookTarget(url=url)

    def faults(self, **kw: Any) -> None:
        self.sbx.state.set_faults(FaultConfig(**{"rate_limits": False, **kw}))

    def admin(self) -> httpx.AsyncClient:
        """Direct access to /_sandbox (not recorded, not part of the contract)."""
        return httpx.AsyncClient(transport=self.transport_factory(), base_url=self.base_url)

    async def seed(
        self, n: int, *, prefix: str = "SKU-", price: str = "10.00", quantity: int = 5
    ) -> list[str]:
        skus = [f"{prefix}{i:06d}" for i in range(n)]
        listings = [{"sku": s, "title": f"Item {s}", "price": price, "quantity": quantity} for s in skus]
        async with self.admin() as c:
            r = await c.post("/_sandbox/seed", json={"listings": listings})
            r.raise_for_status()
        return skus

    async def listing(self, sku: str) -> dict[str, Any] | None:
        async with self.admin() as c:
            rows = (await c.get("/_sandbox/listings", params={"sku": sku})).json()["listings"]
        return rows[0] if rows else None

    async def duplicates(self) -> list[Any]:
        async with self.admin() as c:
            return (await c.get("/_sandbox/effects/duplicates")).json()  # type: ignore[no-any-return]

    async def close(self) -> None:
        for mp in self.adapters:
            await mp.aclose()


async def _finish(env: AmazonEnv, contract: SpApiContract | None) -> None:
    await env.close()
    if contract is None:
        return
    errors, unspecified = contract_violations(contract, env.exchanges)
    assert unspecified <= {"orders/v0"}, unspecified
    if errors:
        pytest.fail("SP-API contract violations:\n" + "\n".join(errors[:30]))


@pytest.fixture
async def amazon(tmp_path: Path, contract: SpApiContract | None) -> AsyncIterator[AmazonEnv]:
    """The sandbox in-process: fast, feeds advance on polls."""
    app = create_app(sandbox_settings(tmp_path), **FAST_KNOBS)
    env = AmazonEnv(
        app=app, base_url="http://amazon.sandbox", transport_factory=lambda: httpx.ASGITransport(app=app)
    )
    env.faults()
    env.webhooks_to(None)
    yield env
    await _finish(env, contract)


# ---------------------------------------------------------------- real servers (uvicorn on free ports)
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Receiver:
    """A webhook endpoint: what the engine's /api/v1/webhooks/amazon/<account> would receive."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Any:
        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            chunks = []
            while True:
                msg = await receive()
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    break
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.deliveries.append((headers, b"".join(chunks)))
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return asgi

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < n and time.monotonic() < deadline:  # noqa: ASYNC110 - filled by another thread
            await asyncio.sleep(0.02)
        return list(self.deliveries)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with ServerThread(rec.app()) as srv:
        yield rec, srv.url


@pytest.fixture
async def live_amazon(tmp_path: Path, contract: SpApiContract | None) -> AsyncIterator[AmazonEnv]:
    """The sandbox on a real port under uvicorn (lifespan on: feeds advance on their own)."""
    app = create_app(sandbox_settings(tmp_path), **FAST_KNOBS)
    with ServerThread(app) as srv:
        app.state.amazon.knobs.public_base_url = srv.url  # document URLs point at this server's port
        env = AmazonEnv(app=app, base_url=srv.url, transport_factory=httpx.AsyncHTTPTransport)
        env.faults()
        env.webhooks_to(None)
        yield env
        await _finish(env, contract)
