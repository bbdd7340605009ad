"""Fidelity tests: each sandbox driven by a widely used third-party client of its marketplace (not written here),
pointed at the sandbox the way the client supports it. What these clients accept is what a seller's own tools would
accept when an account moves from the sandbox to the real marketplace."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from merchflow.settings import Settings
from sandboxes.run import load_app
from tests.support.servers import free_port, serve

T = TypeVar("T")


@dataclass
class RunningSandbox:
    """One sandbox on a real port (uvicorn in a thread) and a plain client for its /_sandbox control API."""

    marketplace: str
    url: str
    app: Any
    control: httpx.Client

    def seed(self, listings: list[dict[str, Any]], *, replace: bool = True) -> None:
        self.control.post(
            "/_sandbox/seed", json={"listings": listings, "replace": replace}
        ).raise_for_status()

    def truth(self, sku: str) -> dict[str, Any]:
        rows = self.control.get("/_sandbox/listings", params={"sku": sku}).json()["listings"]
        assert rows, f"{sku} is not on the {self.marketplace} sandbox"
        return dict(rows[0])

    def buy(self, sku: str, quantity: int = 1) -> dict[str, Any]:
        r = self.control.post("/_sandbox/orders", json={"sku": sku, "quantity": quantity})
        r.raise_for_status()
        return dict(r.json())

    def requests(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.control.get("/_sandbox/requests", params={"limit": 100000, **params}).json())


def sandbox_settings(tmp_path: Path, marketplace: str, port: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        seed_demo=False,
        sandbox={  # type: ignore[arg-type]
            "rate_limits": False,
            f"{marketplace}_port": port,
            "webhook_base_url": "http://127.0.0.1:9",  # nothing listens: deliveries fail quietly
        },
    )


@pytest.fixture(scope="module")
def run_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], RunningSandbox]]:
    """Start a sandbox on a free port, configured (MERCHFLOW_SANDBOX__<MP>_PORT) to know its own address."""
    stack: list[Any] = []

    def start(marketplace: str) -> RunningSandbox:
        port = free_port()
        settings = sandbox_settings(tmp_path_factory.mktemp(marketplace), marketplace, port)
        app = load_app(marketplace, settings)
        server = serve(app, port)
        url = server.__enter__()
        stack.append(server)
        control = httpx.Client(base_url=url, timeout=30)
        stack.append(control)
        return RunningSandbox(marketplace=marketplace, url=url, app=app, control=control)

    yield start
    for item in reversed(stack):
        if isinstance(item, httpx.Client):
            item.close()
        else:
            item.__exit__(None, None, None)


def wait_for(read: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 20.0, what: str = "") -> T:
    """Poll until `done(read())`, with a deadline (no fixed sleeps: holds on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'the condition'}; last value: {value!r}")
        time.sleep(0.05)
