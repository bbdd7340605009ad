"""The real stack for ingest tests and the benchmark: the four sandbox marketplaces on real ports (seeded with the
catalog entries the fixture photos' barcodes should find), a migrated database with the sandbox accounts, the
Temporal dev server, a worker built exactly as `merchflow worker` builds it (registry, Deps, action handlers) on a
task queue of its own, and the API (in process, or on a real port for a browser)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import imagehash
import numpy as np
import sqlalchemy as sa
from PIL import Image
from temporalio.client import Client

from connectors.vision.port import OcrLine
from merchflow.db.engine import make_engine, read_session
from merchflow.db.migrate import upgrade
from merchflow.seed import seed_demo_accounts
from merchflow.settings import Settings
from tests.conftest import make_token
from tests.ingest import photos
from tests.stock.harness import MARKETPLACES, serve_sandboxes
from tests.support.servers import free_port
from workers.build import build_deps, build_workers

# what the marketplaces' catalogs know about some fixture photos' barcodes
AMAZON_CATALOG = [
    {"asin": "B0MUG00001", "title": "Nordic Home Ceramic Mug 350 ml, Red", "brand": "Nordic Home",
     "product_type": "DRINKING_CUP", "color": "Red", "identifiers": {"ean": "4006381333931"}},
    {"asin": "0306406152", "title": "The Water Atlas", "brand": "Atlas Press", "product_type": "ABIS_BOOK",
     "identifiers": {"isbn": "9780306406157", "ean": "9780306406157"}},
]  # fmt: skip
EBAY_PRODUCTS = [
    {"gtin": "4006381333931", "title": "Nordic Home Ceramic Mug 350ml Red", "category_id": "20625", "category_name": "Mugs"},
    {"gtin": "036000291452", "title": "Green Cotton T-Shirt XL", "category_id": "15687", "category_name": "T-Shirts"},
]  # fmt: skip


class FixtureOcr:
    """A stand-in for RapidOCR in workflow tests: recognises which fixture photo it looks at (by perceptual hash)
    and reads its label lines, with boxes sized like the drawn text. Real OCR runs in the e2e test and benchmark."""

    name = "fixture-ocr"

    def __init__(self, items: Iterable[photos.Photo] = ()) -> None:
        self.known: list[tuple[imagehash.ImageHash, tuple[str, ...]]] = []
        for p in items or photos.product_photos():
            im = Image.open(io.BytesIO(p.data))
            from PIL import ImageOps

            self.known.append((imagehash.phash(ImageOps.exif_transpose(im).convert("RGB")), p.text))
        self.calls = 0

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        self.calls += 1
        h = imagehash.phash(Image.fromarray(rgb))
        dist, text = min(((h - k, t) for k, t in self.known), key=lambda x: x[0])
        if dist > 12:
            return []
        return [
            OcrLine(text=t, score=0.97, x=60, y=100 + 60 * i, width=400, height=44 if i == 0 else 38)
            for i, t in enumerate(text)
        ]


def manifest_zip(rows: list[dict[str, str]], files: dict[str, bytes], *, manifest: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        if manifest and rows:
            cols = sorted({k for r in rows for k in r})
            lines = [",".join(cols)] + [",".join(r.get(c, "") for c in cols) for r in rows]
            z.writestr("manifest.csv", "\n".join(lines) + "\n")
    return buf.getvalue()


@dataclass
class Stack:
    settings: Settings
    engine: sa.Engine
    client: Client
    api: httpx.AsyncClient
    token: str
    deps: Any
    ocr: Any
    sandboxes: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def sandbox(self, mp: str, method: str, path: str, **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.sandboxes[mp], timeout=30) as c:
            r = await c.request(method, path, **kw)
        r.raise_for_status()
        return r

    async def listing(self, mp: str, sku: str) -> dict[str, Any] | None:
        body = (await self.sandbox(mp, "GET", "/_sandbox/listings", params={"sku": sku})).json()
        return body["listings"][0] if body["listings"] else None

    async def upload_zip(self, data: bytes, **fields: str) -> dict[str, Any]:
        r = await self.api.post(
            "/api/v1/ingest",
            headers=self.auth,
            files={"file": ("photos.zip", data, "application/zip")},
            data=fields,
        )
        assert r.status_code == 202, r.text
        return r.json()  # type: ignore[no-any-return]

    async def batch(self, batch_id: str) -> dict[str, Any]:
        r = await self.api.get(f"/api/v1/ingest/batches/{batch_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def wait_batch(self, batch_id: str, *, timeout: float = 120.0) -> dict[str, Any]:
        """Until every product is past drafting (drafted, duplicate, refused, or further)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            b = await self.batch(batch_id)
            if b["status"] == "drafted":
                return b
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"batch {batch_id} not drafted in {timeout}s: {b['counts']}")
            await asyncio.sleep(0.2)

    async def product(self, product_id: str) -> dict[str, Any]:
        r = await self.api.get(f"/api/v1/ingest/products/{product_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def wait_product(
        self, product_id: str, statuses: set[str], *, timeout: float = 90.0
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            p = await self.product(product_id)
            if p["status"] in statuses:
                return p
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"product {product_id} is {p['status']}, wanted {statuses}: {p['reason']}"
                )
            await asyncio.sleep(0.2)

    async def decision(self, decision_id: str) -> dict[str, Any]:
        r = await self.api.get(f"/api/v1/decisions/{decision_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()["decision"]  # type: ignore[no-any-return]

    async def wait_decision(
        self, decision_id: str, statuses: set[str], timeout: float = 60.0
    ) -> dict[str, Any]:
        from activities.decisions.tables import Decision

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with read_session(self.engine) as s:
                row = s.get(Decision, decision_id)
            if row is not None and row.status in statuses:
                return await self.decision(decision_id)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"decision {decision_id} is {row.status if row else 'missing'}, wanted {statuses}"
                )
            await asyncio.sleep(0.1)


def stack_settings(data_dir: Path, *, db_url: str | None = None, **extra: Any) -> Settings:
    api_port = (
        free_port()
    )  # nothing listens there unless a test serves the API: sandbox webhooks go nowhere else
    sandbox = {f"{mp}_port": free_port() for mp in MARKETPLACES} | {
        "rate_limits": False,
        "webhook_base_url": f"http://127.0.0.1:{api_port}",
    }
    prefix = f"ing-{uuid.uuid4().hex[:8]}"
    extra.setdefault("temporal", {"task_queue_prefix": prefix})
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=db_url or f"sqlite:///{data_dir / 'app.db'}",  # type: ignore[arg-type]
        seed_demo=False,
        schedules_enabled=False,
        api_port=api_port,
        sandbox=sandbox,
        marketplace_rate_limits=False,
        **extra,
    )


async def seed_catalogs(stack_sandboxes: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        (
            await c.post(
                stack_sandboxes["amazon"] + "/_sandbox/amazon/catalog", json={"items": AMAZON_CATALOG}
            )
        ).raise_for_status()
        (
            await c.put(stack_sandboxes["ebay"] + "/_sandbox/ebay/products", json={"products": EBAY_PRODUCTS})
        ).raise_for_status()


@contextlib.asynccontextmanager
async def ingest_stack(
    data_dir: Path,
    client: Client,
    *,
    ocr: Any = None,
    services: dict[str, Any] | None = None,
    worker: bool = True,
    **settings_kw: Any,
) -> AsyncIterator[Stack]:
    """`worker=False`: no worker in this process (a test runs `python -m merchflow worker` itself)."""
    from api.app import create_app

    settings = stack_settings(data_dir, **settings_kw)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    seed_demo_accounts(engine)
    with serve_sandboxes(settings, MARKETPLACES):
        sandboxes = {mp: settings.sandbox.base_url(mp) for mp in MARKETPLACES}
        await seed_catalogs(sandboxes)
        deps = build_deps(settings)
        ocr = ocr if ocr is not None else FixtureOcr()
        deps.services["ocr"] = ocr
        deps.services.update(services or {})
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="ingest-test")
        running = build_workers(client, deps, only=["main"], executor=executor) if worker else []
        app = create_app(settings, temporal_client=client)
        token = make_token(engine, "admin")
        async with contextlib.AsyncExitStack() as stack:
            for w in running:
                await stack.enter_async_context(w)
            api = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60
                )
            )
            api.app = app  # type: ignore[attr-defined]
            yield Stack(settings, engine, client, api, token, deps, ocr, sandboxes)
        await deps.services["marketplaces"].aclose()
        executor.shutdown(wait=False, cancel_futures=True)
        app.state.engine.dispose()
    engine.dispose()
