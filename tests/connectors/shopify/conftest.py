"""Shopify adapter + sandbox fixtures.

Every adapter built here sends through a recording transport; when the test ends, every GraphQL exchange is checked:
the document against the official 2025-01 schema and the sandbox's subset schema, the response's `data` against the
document's selection with the official types, and the adapter's cost estimate against the shop's
requestedQueryCost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.adapter import SANDBOX_CREDENTIALS, ShopifyMarketplace
from connectors.ratelimit import RateLimiterRegistry
from sandboxes.common.state import FaultConfig, WebhookTarget
from sandboxes.shopify.app import CLIENT_SECRET, build_app
from sandboxes.shopify.schema import subset_schema
from tests.conftest import IN_CI
from tests.connectors.shopify import contract

BASE_URL = "http://merchflow-demo.myshopify.test"
ESTIMATES: dict[str, Callable[[dict[str, Any]], int]] = {
    docs.LISTINGS.name: lambda v: docs.LISTINGS.estimate(v["first"]),
    docs.VARIANTS_BY_SKU.name: lambda v: docs.VARIANTS_BY_SKU.estimate(v["first"]),
    docs.VARIANTS_BY_ID.name: lambda v: docs.VARIANTS_BY_ID.estimate(len(v["ids"])),
    docs.INVENTORY_LEVELS.name: lambda v: docs.INVENTORY_LEVELS.estimate(len(v["ids"])),
    docs.ORDERS.name: lambda v: docs.ORDERS.estimate(v["first"]),
}


def require_spec() -> None:
    if contract.spec_path() is None:
        reason = f"Shopify spec {contract.SPEC_NAME} not found (set MERCHFLOW_SPECS_DIR or ../shared/specs)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Exchange:
    path: str
    request: dict[str, Any] | None
    headers: dict[str, str]
    status: int
    response: Any


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Wraps the real transport (ASGI or network) and keeps every request / response pair."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        try:
            req = json.loads(body) if body and request.url.path.endswith("graphql.json") else None
        except ValueError:
            req = None
        try:
            resp = json.loads(content) if content else None
        except ValueError:
            resp = content
        self.exchanges.append(
            Exchange(request.url.path, req, dict(request.headers), response.status_code, resp)
        )
        headers = [
            (k, v) for k, v in response.headers.items() if k not in ("content-encoding", "content-length")
        ]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)

    def graphql(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.request is not None]

    def operations(self) -> list[str]:
        return [str(e.request.get("operationName")) for e in self.graphql() if e.request]

    def problems(self) -> list[str]:
        official = contract.official_schema() if contract.spec_path() is not None else None
        subset = subset_schema()
        out: list[str] = []
        for n, ex in enumerate(self.graphql()):
            assert ex.request is not None
            query = ex.request["query"]
            name = ex.request.get("operationName")
            for label, schema in (("official", official), ("subset", subset)):
                if schema is None:
                    continue
                out += [
                    f"#{n} {name} invalid ({label}): {m}" for m in contract.validation_errors(schema, query)
                ]
                if ex.status == 200 and isinstance(ex.response, dict):
                    data = ex.response.get("data")
                    out += [
                        f"#{n} {name} response ({label}): {m}"
                        for m in contract.response_errors(schema, query, data)
                    ]
            cost = (
                (ex.response or {}).get("extensions", {}).get("cost")
                if isinstance(ex.response, dict)
                else None
            )
            if cost:
                doc = next(d for d in docs.ALL if d.name == name)
                variables = ex.request.get("variables") or {}
                want = ESTIMATES[doc.name](variables) if doc.name in ESTIMATES else doc.cost
                if want != cost["requestedQueryCost"]:
                    out.append(
                        f"#{n} {name}: adapter estimated {want}, shop computed {cost['requestedQueryCost']}"
                    )
        return out


def account(base_url: str = BASE_URL, **options: Any) -> AccountConfig:
    return AccountConfig(
        marketplace="shopify",
        name="test-shop",
        base_url=base_url,
        options=options,
        credentials={k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()},
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> FastAPI:
    """A seeded sandbox (demo catalog) with rate limits off and no webhook target."""
    return build_app(
        db_path=tmp_path / "shopify.db",
        faults=FaultConfig(rate_limits=False),
        webhook=WebhookTarget(url=None, secret=CLIENT_SECRET),
    )


@pytest.fixture
async def control(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Client for the sandbox's /_sandbox inspection API."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
def recorder(sandbox: FastAPI) -> Iterator[Recorder]:
    rec = Recorder(httpx.ASGITransport(app=sandbox))
    yield rec
    problems = rec.problems()
    assert not problems, "\n".join(problems[:30])


@pytest.fixture
async def make_adapter(recorder: Recorder) -> AsyncIterator[Callable[..., ShopifyMarketplace]]:
    made: list[ShopifyMarketplace] = []

    def make(
        *,
        limits: bool = False,
        cfg: AccountConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> ShopifyMarketplace:
        adapter = ShopifyMarketplace.from_config(
            cfg or account(**options), RateLimiterRegistry(enabled=limits), transport=transport or recorder
        )
        made.append(adapter)
        return adapter

    yield make
    for a in made:
        await a.aclose()


@pytest.fixture
async def adapter(make_adapter: Callable[..., ShopifyMarketplace]) -> ShopifyMarketplace:
    return make_adapter()


async def seed(control: httpx.AsyncClient, n: int, *, prefix: str = "SKU", quantity: int = 10) -> list[str]:
    skus = [f"{prefix}-{i:06d}" for i in range(n)]
    listings = [{"sku": s, "title": f"Item {s}", "price": "10.00", "quantity": quantity} for s in skus]
    r = await control.post("/_sandbox/seed", json={"listings": listings})
    assert r.status_code == 200 and r.json()["created"] == n
    return skus


async def truth(control: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    rows = (await control.get("/_sandbox/listings", params={"sku": sku})).json()["listings"]
    assert len(rows) == 1, rows
    return rows[0]  # type: ignore[no-any-return]
