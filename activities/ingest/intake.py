"""Intake: staged image files + product specs -> a batch in the database and its images in the blob store.

Shared by the API (a POST, a zip with a manifest) and `merchflow ingest DIR`. All or nothing: every image is
checked (type, size, declared pixels) and every row validated before anything is stored; a batch with one
problem is refused with every problem named, so nothing is half-ingested.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel

from activities.ingest import repository as repo
from activities.ingest.sniff import EXTENSIONS, UploadRefused, check_upload, media_type
from activities.ingest.tables import IngestBatch, IngestImage, IngestProduct
from connectors.blobs.port import BlobStore
from domain.ingest.image_rules import ImageLimits
from domain.ingest.manifest import ProductSpec, RowProblem
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.settings import Settings


@dataclass
class Staged:
    """One received image file, not yet committed to the blob store."""

    name: str  # as the seller named it (multipart filename, path in the zip / folder)
    tmp: Path
    kind: str | None = None  # set by check


class IntakeRefused(ValueError):
    def __init__(self, problems: list[RowProblem], status: int = 422) -> None:
        super().__init__("; ".join(f"row {p.row} {p.field}: {p.message}" for p in problems[:5]))
        self.problems = problems
        self.status = status


class CreatedProduct(BaseModel):
    id: str
    sku: str
    images: int
    row: int


class CreatedBatch(BaseModel):
    batch_id: str
    products: list[CreatedProduct]


def default_sku(product_id: str) -> str:
    return f"MF-{product_id[:10].upper()}"


def check_images(
    specs: list[ProductSpec], staged: dict[str, Staged], limits: ImageLimits
) -> list[RowProblem]:
    problems = []
    for spec in specs:
        for name in spec.images:
            item = staged.get(name)
            if item is None:
                problems.append(RowProblem(row=spec.row, field="images", message=f"no file {name[:100]!r}"))
                continue
            if item.kind is None:
                try:
                    item.kind = check_upload(item.tmp, limits)
                except UploadRefused as exc:
                    problems.append(
                        RowProblem(row=spec.row, field="images", message=f"{name[:100]}: {exc.reason}")
                    )
    return problems


def create_batch(
    engine: sa.Engine,
    blobs: BlobStore,
    settings: Settings,
    *,
    specs: list[ProductSpec],
    staged: dict[str, Staged],
    source: str,
    created_by: str | None,
) -> CreatedBatch:
    """Raises IntakeRefused naming every problem; on success the temp files are gone (committed)."""
    cfg = settings.ingest
    if not specs:
        raise IntakeRefused([RowProblem(row=0, field="images", message="no product to ingest")])
    if len(specs) > cfg.max_products_per_batch:
        raise IntakeRefused(
            [
                RowProblem(
                    row=0,
                    field="file",
                    message=f"{len(specs)} products; at most {cfg.max_products_per_batch}",
                )
            ]
        )
    limits = ImageLimits(max_bytes=cfg.max_image_bytes)
    problems = check_images(specs, staged, limits)
    batch_id = uuid.uuid4().hex
    ids = [uuid.uuid4().hex for _ in specs]
    skus = [spec.sku or default_sku(pid) for spec, pid in zip(specs, ids, strict=True)]
    with session_scope(engine) as session:
        taken = repo.skus_in_use(session, [s.sku for s in specs if s.sku])
        wanted = {mp for spec in specs for mp in (spec.marketplaces or cfg.default_marketplaces)}
        accounts = repo.accounts_for(session, sorted(wanted))
    for spec in specs:
        if spec.sku and spec.sku in taken:
            problems.append(
                RowProblem(row=spec.row, field="sku", message=f"SKU {spec.sku} is already in the catalog")
            )
        missing = [mp for mp in (spec.marketplaces or cfg.default_marketplaces) if mp not in accounts]
        if missing and len(missing) == len(spec.marketplaces or cfg.default_marketplaces):
            problems.append(
                RowProblem(
                    row=spec.row,
                    field="marketplaces",
                    message=f"no enabled marketplace account for {', '.join(missing)}",
                )
            )
    if problems:
        raise IntakeRefused(problems)

    now = utcnow()
    products, images = [], []
    for spec, pid, sku in zip(specs, ids, skus, strict=True):
        chosen = [mp for mp in (spec.marketplaces or cfg.default_marketplaces) if mp in accounts]
        products.append(
            IngestProduct(
                id=pid,
                batch_id=batch_id,
                position=len(products),
                sku=sku,
                cost=spec.cost,
                currency=spec.currency,
                quantity=cfg.default_quantity if spec.quantity is None else spec.quantity,
                hints=spec.hints,
                marketplaces=chosen,
                created_at=now,
            )
        )
        for n, name in enumerate(spec.images):
            item = staged[name]
            key = f"ingest/uploads/{batch_id}/{pid}/{n}{EXTENSIONS.get(item.kind or '', '')}"
            blobs.commit(item.tmp, key, content_type=media_type(item.kind or ""))
            images.append(
                IngestImage(
                    id=f"{pid}-{n}",
                    product_id=pid,
                    position=n,
                    upload_key=key,
                    filename=name[-300:],
                    kind=item.kind,
                    created_at=now,
                )
            )
    batch = IngestBatch(
        id=batch_id, source=source, products=len(products), created_by=created_by, created_at=now
    )
    with session_scope(engine) as session:
        repo.add_batch(session, batch=batch, products=products, images=images)
    return CreatedBatch(
        batch_id=batch_id,
        products=[
            CreatedProduct(id=p.id, sku=p.sku, images=len(spec.images), row=spec.row)
            for p, spec in zip(products, specs, strict=True)
        ],
    )


def discard(staged: dict[str, Staged]) -> None:
    for item in staged.values():
        item.tmp.unlink(missing_ok=True)
