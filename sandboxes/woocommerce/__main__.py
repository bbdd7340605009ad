"""Serve the WooCommerce sandbox alone: `python -m sandboxes.woocommerce [--port N] [--db PATH]`.

Settings come from MERCHFLOW_* variables as usual (MERCHFLOW_SANDBOX__RATE_LIMITS=false, ...). Benchmarks start it
as a subprocess so the sandbox and the client do not share one interpreter lock."""

from __future__ import annotations

import argparse

import uvicorn

from merchflow.settings import Settings
from sandboxes.woocommerce.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--db", default=None, help="SQLite file (default: <data_dir>/sandboxes/woocommerce.db)"
    )
    args = parser.parse_args()
    settings = Settings()
    host = args.host or settings.sandbox.host
    port = args.port or settings.sandbox.woocommerce_port
    app = create_app(settings, db_path=args.db, site_url=f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
