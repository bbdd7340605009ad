"""Talking to the sandbox marketplaces from tests and benchmarks: their /_sandbox inspection API (seed, the current
truth, customers buying, faults, request and effect logs), and a webhook relay between the sandboxes and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from merchflow.settings import Settings


@dataclass
class Sandboxes:
    settings: Settings
    marketplaces: tuple[str, ...]
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=60))

    def url(self, mp: str) -> str:
        return self.settings.sandbox.base_url(mp)

    async def call(self, mp: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.request(method, self.url(mp) + path, **kw)

    async def seed(self, mp: str, quantities: Mapping[str, int], *, replace: bool = False) -> None:
        listings = [listing_payload(sku, q) for sku, q in quantities.items()]
        for i in range(0, len(listings), 20000):
            r = await self.call(
                mp, "POST", "/_sandbox/seed", json={"listings": listings[i : i + 20000], "replace": replace}
            )
            r.raise_for_status()
            replace = False

    async def truth(self, mp: str, sku: str | None = None) -> dict[str, int | None]:
        """SKU -> quantity the marketplace shows now."""
        params: dict[str, Any] = {"limit": 1_000_000 if mp != "woocommerce" else 200_000}
        if sku is not None:
            params["sku"] = sku
        r = await self.call(mp, "GET", "/_sandbox/listings", params=params)
        r.raise_for_status()
        body = r.json()
        rows = body["listings"] if isinstance(body, dict) else body
        return {row["sku"]: row.get("quantity") for row in rows}

    async def buy(self, mp: str, sku: str, quantity: int = 1, order_id: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"sku": sku, "quantity": quantity}
        if order_id is not None:
            body["order_id"] = order_id
        return await self.call(mp, "POST", "/_sandbox/orders", json=body)

    async def faults(self, mp: str, **kw: Any) -> None:
        current = (await self.call(mp, "GET", "/_sandbox/faults")).json()
        (await self.call(mp, "PUT", "/_sandbox/faults", json={**current, **kw})).raise_for_status()

    async def duplicates(self, mp: str) -> list[dict[str, Any]]:
        r = await self.call(mp, "GET", "/_sandbox/effects/duplicates")
        r.raise_for_status()
        return list(r.json())

    async def requests(
        self, mp: str, since_id: int = 0, *, mutating: bool | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since_id": since_id, "limit": 100000}
        if mutating is not None:
            params["mutating"] = str(mutating).lower()
        r = await self.call(mp, "GET", "/_sandbox/requests", params=params)
        return list(r.json())

    async def webhooks(self, mp: str) -> dict[str, Any]:
        return dict((await self.call(mp, "GET", "/_sandbox/webhooks")).json())

    async def aclose(self) -> None:
        await self.http.aclose()


def listing_payload(sku: str, quantity: int) -> dict[str, Any]:
    return {"sku": sku, "title": f"Item {sku}", "price": "19.99", "quantity": quantity, "identifiers": {}}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the API answered (None: held)


class Relay:
    """Sits between the sandboxes and the API: records every webhook delivery (so tests can replay or forge one)
    and forwards it, or holds it while `hold` is set (as if the marketplace's delivery were delayed)."""

    def __init__(self, target: str = "") -> None:
        self.target = target
        self.hold = False
        self.deliveries: list[Delivery] = []
        self.app = FastAPI()

        @self.app.post("/{path:path}", response_model=None)
        async def relay(path: str, request: Request) -> Response:
            d = Delivery("/" + path, dict(request.headers), await request.body())
            self.deliveries.append(d)
            if self.hold:
                return Response(status_code=200)
            r = await self.send(d)
            return Response(r.content, status_code=r.status_code, media_type="application/json")

    async def send(self, d: Delivery, body: bytes | None = None) -> httpx.Response:
        headers = {k: v for k, v in d.headers.items() if k not in ("host", "content-length")}
        async with httpx.AsyncClient(timeout=30) as c:
            r = await c.post(self.target + d.path, content=d.body if body is None else body, headers=headers)
        d.status = d.status or r.status_code
        return r

    def for_marketplace(self, mp: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path.startswith(f"/api/v1/webhooks/{mp}/")]
