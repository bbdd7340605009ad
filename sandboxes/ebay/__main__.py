"""Serve only the eBay sandbox: `python -m sandboxes.ebay --port 8702` (settings from MERCHFLOW_* env)."""

from __future__ import annotations

import argparse

import uvicorn

from merchflow.settings import Settings
from sandboxes.ebay.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.sandbox.host,
        port=args.port or settings.sandbox.ebay_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
