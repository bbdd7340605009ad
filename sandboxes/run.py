"""Serve every enabled sandbox marketplace in one process (`merchflow sandboxes`), each on its own port, and the
registry entries that make `merchflow up` start them (see merchflow.startup)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import signal
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.startup import ChildSpec, merchflow_argv

log = get_logger(__name__)

# marketplace -> "module:factory"; factory(settings) -> FastAPI
SANDBOXES: dict[str, str] = {
    "amazon": "sandboxes.amazon.app:create_app",
    "ebay": "sandboxes.ebay.app:create_app",
    "shopify": "sandboxes.shopify.app:create_app",
    "woocommerce": "sandboxes.woocommerce.app:create_app",
    # the arbitrage loop's: a classifieds marketplace to buy from, and card payments to pay with
    "classifieds": "sandboxes.classifieds.app:create_app",
    "payments": "sandboxes.payments.app:create_app",
}
# the four marketplaces (common /_sandbox/listings, /orders, /requests shape); the others serve the arbitrage loop
MARKETPLACE_SANDBOXES: tuple[str, ...] = ("amazon", "ebay", "shopify", "woocommerce")
HEALTH_PATH = "/_sandbox/health"


def load_app(marketplace: str, settings: Settings) -> FastAPI:
    module, factory = SANDBOXES[marketplace].split(":")
    return getattr(importlib.import_module(module), factory)(settings)  # type: ignore[no-any-return]


def available() -> list[str]:
    """The sandboxes present in this installation, found without importing them (`merchflow up` asks too)."""
    out = []
    for name, target in SANDBOXES.items():
        try:
            if importlib.util.find_spec(target.split(":")[0]) is not None:
                out.append(name)
        except ModuleNotFoundError:
            continue
    return out


class _Server(uvicorn.Server):
    """Several servers share one process: signals are handled once, for all of them, by `serve_all` (uvicorn's own
    handler would stop only the server that installed it last)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_all(settings: Settings, only: list[str] | None = None) -> None:
    """Build every app first (each seeds its demo catalog), bind every port, then serve: once any sandbox answers,
    the others' ports already accept connections, so a single ready URL is enough for `merchflow up`."""
    names = list(only or available())
    unknown = sorted(set(names) - set(SANDBOXES))
    if unknown:
        raise ValueError(f"unknown sandbox(es): {', '.join(unknown)}; known: {', '.join(SANDBOXES)}")
    servers: list[tuple[_Server, socket.socket]] = []
    try:
        for name in names:
            config = uvicorn.Config(
                load_app(name, settings),
                host=settings.sandbox.host,
                port=settings.sandbox.port(name),
                log_config=None,
                log_level="warning",  # one "sandboxes serving" line instead of uvicorn's four per server
                access_log=False,
                lifespan="on",
            )
            servers.append((_Server(config), config.bind_socket()))
    except BaseException:
        for _, sock in servers:
            sock.close()
        raise

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop)
    log.info(
        "sandboxes serving",
        sandboxes={name: settings.sandbox.base_url(name) for name in names},
        rate_limits=settings.sandbox.rate_limits,
    )
    try:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
    finally:
        for _, sock in servers:
            sock.close()


# ---------------------------------------------------------------- `merchflow up` registry entries
def children(settings: Settings) -> list[ChildSpec]:
    """One `merchflow sandboxes` process serving every sandbox, started before the worker and the API."""
    names = available() if settings.sandbox.enabled else []
    if not names:
        return []
    sb = settings.sandbox
    return [
        ChildSpec(
            "sandboxes",
            merchflow_argv("sandboxes"),
            ports=tuple(sb.port(name) for name in names),
            ready_url=sb.base_url(names[-1]) + HEALTH_PATH,
            tier=1,
        )
    ]


def links(settings: Settings) -> list[tuple[str, str]]:
    if not settings.sandbox.enabled:
        return []
    return [(f"Sandbox {name}", settings.sandbox.base_url(name) + "/_sandbox/docs") for name in available()]
