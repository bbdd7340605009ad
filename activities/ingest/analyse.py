"""First look at a product's images: decode, orient, strip the metadata and hash each one, refuse what is not a
usable image, report what was ingested before (same bytes, or a near-duplicate by perceptual hash + colour
layout), read the barcodes and the main image's colours, and look the identifiers up in our own catalog.

Sync and CPU-bound (Pillow, zxing-cpp, numpy): it runs in a thread-pool activity. Idempotent: an image already
looked at is not looked at again, so a retry after a crash (or a killed worker) neither re-reads it nor finds it
to be a duplicate of itself.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa
from PIL import Image

from activities.ingest import repository as repo
from activities.ingest.extract import COLOUR_MAX_SIDE
from activities.ingest.images import ANALYSIS_MAX_SIDE, ImageRefused, prepare_image
from activities.ingest.tables import IngestImage
from connectors.blobs.port import BlobNotFound, BlobStore
from connectors.vision.port import BarcodeReader
from domain.ingest.attributes import Attribute
from domain.ingest.colours import colour_attributes, dominant_colours
from domain.ingest.duplicates import KnownImage, find_duplicate
from domain.ingest.identifiers import barcode_attributes
from domain.ingest.image_rules import ImageLimits
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from workflows.ingest.contract import AnalyseResult

IDENTIFIER_NAMES = ("ean", "upc", "isbn", "isbn10", "gtin")


def stripped_key(image_id: str) -> str:
    return f"ingest/images/{image_id}.jpg"


def load_rgb(blobs: BlobStore, image: IngestImage, max_side: int = ANALYSIS_MAX_SIDE) -> np.ndarray:
    """The stripped copy, oriented and sRGB already, at most `max_side` on its longest side."""
    im = Image.open(io.BytesIO(blobs.get(image.stripped_key or stripped_key(image.id)))).convert("RGB")
    im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.asarray(im)


def _prepare_one(
    engine: sa.Engine, blobs: BlobStore, row: IngestImage, limits: ImageLimits, max_distance: int
) -> tuple[IngestImage, np.ndarray | None]:
    try:
        data = blobs.get(row.upload_key)
    except BlobNotFound:
        return _refuse(engine, row, "the uploaded file is missing from the blob store"), None
    try:
        prepared = prepare_image(data, limits)
    except ImageRefused as exc:
        return _refuse(engine, row, exc.reason), None
    key = stripped_key(row.id)
    blobs.put(key, prepared.stripped_jpeg, content_type="image/jpeg")
    with session_scope(engine) as session:
        repo.lock_dedupe(
            session
        )  # one image at a time decides "new or seen before" (PostgreSQL; SQLite locks anyway)
        fresh = repo.image(session, row.id)
        assert fresh is not None
        if fresh.status in ("ok", "duplicate"):  # decided by an earlier attempt
            return fresh, prepared.analysis
        same = repo.same_bytes(session, sha256=prepared.sha256, exclude_product=row.product_id)
        match = same.id if same is not None else None
        if match is None:
            found = find_duplicate(
                prepared.phash,
                prepared.colour_layout,
                (
                    KnownImage(image_id=i, phash=h, colour_layout=c)
                    for i, h, c in repo.known_images(session, exclude_product=row.product_id)
                ),
                max_distance=max_distance,
            )
            match = found.image_id if found else None
        fresh.kind, fresh.width, fresh.height = prepared.kind, prepared.width, prepared.height
        fresh.stripped_key, fresh.sha256, fresh.phash = key, prepared.sha256, prepared.phash
        fresh.colour_layout = prepared.colour_layout
        fresh.status = "duplicate" if match else "ok"
        fresh.duplicate_of = match
        session.add(fresh)
    return fresh, prepared.analysis


def _refuse(engine: sa.Engine, row: IngestImage, reason: str) -> IngestImage:
    with session_scope(engine) as session:
        fresh = repo.image(session, row.id)
        assert fresh is not None
        fresh.status, fresh.reason = "refused", reason[:1000]
        session.add(fresh)
    return fresh


def analyse_product(
    engine: sa.Engine,
    blobs: BlobStore,
    barcodes: BarcodeReader,
    *,
    product_id: str,
    limits: ImageLimits,
    max_distance: int,
    heartbeat: Callable[[], None] = lambda: None,
) -> AnalyseResult:
    started = time.perf_counter()
    with session_scope(engine) as session:
        product = repo.product(session, product_id)
        if product.status in ("duplicate", "refused"):
            return AnalyseResult(
                status=product.status, reason=product.reason, duplicate_of=product.duplicate_of
            )  # type: ignore[arg-type]
        if product.started_at is None:
            product.started_at = utcnow()
        if product.status == "pending":
            product.status = "analysing"
        session.add(product)
        rows = repo.images(session, product_id)

    done: list[tuple[IngestImage, np.ndarray | None]] = []
    for row in rows:
        heartbeat()
        if row.status == "refused":
            done.append((row, None))
        elif row.status in ("ok", "duplicate") and row.stripped_key:
            done.append((row, load_rgb(blobs, row) if row.status == "ok" else None))
        else:
            done.append(_prepare_one(engine, blobs, row, limits, max_distance))
    usable = [(r, rgb) for r, rgb in done if r.status == "ok" and rgb is not None]
    if not usable:
        return _not_processed(engine, product_id, [r for r, _ in done])

    attributes: list[Attribute] = []
    hits: list[dict[str, str]] = []
    for _, rgb in usable:
        for hit in barcodes.read(rgb):
            hits.append(hit.model_dump())
            attributes += barcode_attributes(hit.format, hit.text)
    main = usable[0][1]
    assert main is not None
    thumb = Image.fromarray(main)
    thumb.thumbnail((COLOUR_MAX_SIDE, COLOUR_MAX_SIDE), Image.Resampling.BILINEAR)
    colours = dominant_colours(np.asarray(thumb))
    attributes += colour_attributes(colours)
    identifiers = {a.name: a.value for a in attributes if a.name in IDENTIFIER_NAMES}

    with session_scope(engine) as session:
        product = repo.product(session, product_id)
        ours = repo.our_product_by_identifier(session, identifiers)
        catalog = dict(product.catalog)
        if ours is not None:
            catalog["ours"] = {
                "sku": ours.sku,
                "name": ours.name,
                "brand": ours.brand,
                "category": ours.category,
            }
        product.catalog = catalog
        product.extraction = {
            **product.extraction,
            "barcodes": hits,
            "colours": [c.model_dump() for c in colours],
            "attributes": [a.model_dump(mode="json") for a in attributes],
            "images": [
                {"id": r.id, "status": r.status, "reason": r.reason, "duplicate_of": r.duplicate_of}
                for r, _ in done
            ],
            "seconds": {"analyse": round(time.perf_counter() - started, 4)},
        }
        session.add(product)
    return AnalyseResult(
        status="ok", images=len(usable), identifiers=identifiers, in_our_catalog=ours is not None
    )


def _not_processed(engine: sa.Engine, product_id: str, rows: list[IngestImage]) -> AnalyseResult:
    """No usable image: every one refused, or seen before (reported with the product it belongs to)."""
    dup = next((r for r in rows if r.status == "duplicate"), None)
    with session_scope(engine) as session:
        product = repo.product(session, product_id)
        if dup is not None:
            original = repo.image(session, dup.duplicate_of or "")
            product.status = "duplicate"
            product.duplicate_of = original.product_id if original else None
            product.reason = (
                f"image {dup.filename or dup.position} was ingested before (image {dup.duplicate_of})"
            )
        else:
            reasons = "; ".join(f"{r.filename or r.position}: {r.reason}" for r in rows)
            product.status, product.reason = "refused", f"no usable image ({reasons})"[:2000]
        product.finished_at = utcnow()
        session.add(product)
        result: dict[str, Any] = {
            "status": product.status,
            "reason": product.reason,
            "duplicate_of": product.duplicate_of,
        }
    return AnalyseResult(**result)
