"""Serve the Amazon sandbox alone: `python -m sandboxes.amazon [--host H] [--port N]`.

Settings come from MERCHFLOW_* variables as usual (MERCHFLOW_DATA_DIR, MERCHFLOW_SANDBOX__RATE_LIMITS=false, ...);
Amazon knobs can be changed at run time with PUT /_sandbox/amazon/config. Benchmarks start it as a subprocess so
the sandbox and the client do not share one interpreter lock."""

from __future__ import annotations

import argparse

import uvicorn

from merchflow.settings import Settings
from sandboxes.amazon.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    settings = Settings()
    host = args.host or settings.sandbox.host
    port = args.port or settings.sandbox.amazon_port
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
