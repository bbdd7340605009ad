"""Run the Shopify sandbox on a real port: in a background thread (tests) or as a process (benchmarks):

python -m sandboxes.shopify.serve --port 8703 --data-dir /tmp/x [--no-rate-limits]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from sandboxes.common.state import FaultConfig, WebhookTarget
from sandboxes.shopify.app import CLIENT_SECRET, build_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadedServer:
    """uvicorn on 127.0.0.1:<free port> in a daemon thread with its own event loop."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def make_app(
    data_dir: Path, *, rate_limits: bool, webhook_url: str | None = None, seed: bool = True
) -> FastAPI:
    return build_app(
        db_path=data_dir / "shopify.db",
        faults=FaultConfig(rate_limits=rate_limits),
        webhook=WebhookTarget(url=webhook_url, secret=CLIENT_SECRET),
        seed=seed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rate-limits", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--webhook-url", default=None)
    args = parser.parse_args()
    app = make_app(args.data_dir, rate_limits=args.rate_limits, webhook_url=args.webhook_url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
