"""Two features (or two parts of a sandbox) registering the same method and path: only the first router answers, so
the second one's callers silently get the wrong handler. One owner per route, in the API and in every sandbox."""

from __future__ import annotations

import collections
import importlib
from pathlib import Path
from typing import Any

import pytest

from merchflow.settings import Settings


def _duplicates(app: Any) -> list[tuple[str, str]]:
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    for route in app.routes:
        for method in getattr(route, "methods", None) or ():
            seen[(method, route.path)] += 1
    return sorted(k for k, n in seen.items() if n > 1)


@pytest.mark.parametrize("marketplace", ["amazon", "ebay", "shopify", "woocommerce"])
def test_each_sandbox_route_has_one_handler(marketplace: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path)  # type: ignore[call-arg]
    app = importlib.import_module(f"sandboxes.{marketplace}.app").create_app(settings)
    assert _duplicates(app) == []


def test_each_api_route_has_one_handler(tmp_path: Path) -> None:
    from api.app import create_app

    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path)  # type: ignore[call-arg]
    assert _duplicates(create_app(settings)) == []
