"""Serve every enabled sandbox marketplace in one process (`merchflow sandboxes`), each on its own port."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import uvicorn
from fastapi import FastAPI

from merchflow.settings import Settings

# marketplace -> "module:factory"; factory(settings) -> FastAPI
SANDBOXES: dict[str, str] = {
    "amazon": "sandboxes.amazon.app:create_app",
    "ebay": "sandboxes.ebay.app:create_app",
    "shopify": "sandboxes.shopify.app:create_app",
    "woocommerce": "sandboxes.woocommerce.app:create_app",
}


def load_app(marketplace: str, settings: Settings) -> FastAPI:
    module, factory = SANDBOXES[marketplace].split(":")
    return getattr(importlib.import_module(module), factory)(settings)  # type: ignore[no-any-return]


def available() -> list[str]:
    out = []
    for name, target in SANDBOXES.items():
        try:
            importlib.import_module(target.split(":")[0])
            out.append(name)
        except ModuleNotFoundError:
            continue
    return out


async def serve_all(settings: Settings, only: list[str] | None = None) -> None:
    servers: list[Any] = []
    for name in only or available():
        app = load_app(name, settings)
        config = uvicorn.Config(
            app,
            host=settings.sandbox.host,
            port=settings.sandbox.port(name),
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        servers.append(uvicorn.Server(config))
    await asyncio.gather(*(s.serve() for s in servers))
