"""Ingest: upload product photos (one product, or a zip of many with a manifest), follow the batch, read a product's
attributes, draft and per-marketplace outcome. Reviewing happens on the approver pages (`listing_publish`)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from activities.ingest import repository as repo
from activities.ingest.intake import IntakeRefused, Staged, create_batch, discard
from api.deps import AnyCaller, AppSettings, Blobs, Operator, Temporal, get_engine
from api.errors import ApiError, error_responses
from api.ingest import views
from api.ingest.starting import start_batch
from api.ingest.uploads import Received, extract, is_zip, read_text, receive, zip_members
from api.inputs import Offset
from api.routing import ApiRoute
from domain.ingest.attributes import Attribute, best_by_name
from domain.ingest.manifest import (
    HINT_COLUMNS,
    MANIFEST_NAMES,
    ManifestResult,
    ProductSpec,
    RowProblem,
    clean_hint,
    folder_products,
    is_image_name,
    parse_cost,
    parse_currency,
    parse_manifest,
    parse_marketplaces,
    parse_quantity,
    parse_sku,
)
from merchflow.db.engine import read_session
from merchflow.logging import get_logger
from workflows.ingest.contract import PROGRESS_QUERY, BatchProgress

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], route_class=ApiRoute)
log = get_logger(__name__)
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
MAX_ZIP_ENTRIES = 20_000
_FIELD_PARSERS = {
    "sku": parse_sku,
    "cost": parse_cost,
    "currency": parse_currency,
    "quantity": parse_quantity,
    "marketplaces": parse_marketplaces,
}


def _problems(problems: list[RowProblem], status: int = 422) -> ApiError:
    shown = [p.model_dump() for p in problems[:100]]
    first = problems[0].message if problems else "invalid upload"
    return ApiError(
        status,
        f"{len(problems)} problem(s) in the upload: {first}",
        code="invalid_upload",
        details={"problems": shown, "more": max(0, len(problems) - 100)},
    )


def _single_product(received: Received) -> ProductSpec:
    """The form of a one-product upload: its images, and optional sku / cost / currency / quantity /
    marketplaces and hints (`hints` as a JSON object, or one field per hint: title, brand, hint_<name>...)."""
    spec = ProductSpec(images=[f"{n}/{f.filename}" for n, f in enumerate(received.files)])
    problems = []
    for name, raw in received.fields.items():
        if not raw.strip():
            continue
        try:
            if name in _FIELD_PARSERS:
                setattr(spec, name, _FIELD_PARSERS[name](raw))
            elif name == "hints":
                hints = json.loads(raw)
                if not isinstance(hints, dict) or not all(isinstance(v, str) for v in hints.values()):
                    raise ValueError("hints must be a JSON object of strings")
                spec.hints.update({str(k)[:40]: clean_hint(v) for k, v in hints.items()})
            elif name in HINT_COLUMNS or name.startswith("hint_"):
                spec.hints[name.removeprefix("hint_")[:40]] = clean_hint(raw)
        except ValueError as exc:
            problems.append(RowProblem(row=0, field=name[:40], message=str(exc)))
    if problems:
        raise _problems(problems)
    return spec


def _from_zip(received: Received, settings: Any, tmp: Any) -> tuple[ManifestResult, dict[str, Staged]]:
    cfg = settings.ingest
    archive, members = zip_members(
        received.files[0].path,
        max_entries=MAX_ZIP_ENTRIES,
        max_total=cfg.max_image_bytes * cfg.max_images_per_product * cfg.max_products_per_batch,
    )
    staged: dict[str, Staged] = {}
    try:
        images = {n for n in members if is_image_name(n)}
        manifest = next((n for n in MANIFEST_NAMES if n in members), None)
        if manifest is not None:
            result = parse_manifest(
                read_text(archive, members[manifest]),
                images,
                max_images=cfg.max_images_per_product,
                max_rows=cfg.max_products_per_batch,
            )
        else:
            result = folder_products(
                sorted(images), max_images=cfg.max_images_per_product, max_rows=cfg.max_products_per_batch
            )
        if result.ok:
            for name in sorted({n for spec in result.products for n in spec.images}):
                path = tmp()
                staged[name] = Staged(name=name, tmp=path)
                extract(archive, members[name], path, cfg.max_image_bytes)
    except BaseException:
        discard(staged)
        raise
    finally:
        archive.close()
    return result, staged


@router.post(
    "",
    status_code=202,
    response_model=views.CreatedBatchOut,
    summary="Upload product photos: one product's images with its details, or a zip (manifest.csv optional)",
    description=(
        "multipart/form-data. One product: its images as file parts (any field name), plus optional fields "
        "`sku`, `cost`, `currency`, `quantity`, `marketplaces` (e.g. `amazon,ebay`) and hints (`title`, `brand`, "
        "`product_type`, `category`, `hint_<name>`, or `hints` as a JSON object). Many products: one zip file part "
        "holding the images and a `manifest.csv` (columns `images` - file names separated by `;` - and optional "
        "`sku`, `cost`, `currency`, `quantity`, `marketplaces`, hint columns); without a manifest each image at the "
        "top is a product and each folder one product with its images. Every image is checked (JPEG, PNG, WebP or "
        "HEIC; size; declared pixels) before anything is stored: one problem refuses the whole upload (422, every "
        "problem named per row)."
    ),
    responses=error_responses(400, 413, 415),
)
async def create_ingest(
    request: Request, caller: Operator, settings: AppSettings, temporal: Temporal, blobs: Blobs
) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(
            415, "send multipart/form-data with the images (or one zip)", code="unsupported_media_type"
        )
    cfg = settings.ingest
    max_files = cfg.max_images_per_product
    received = await receive(
        request.stream(),
        content_type,
        tmp=blobs.writer_tmp,
        max_file_bytes=max(cfg.max_image_bytes, settings.max_upload_bytes),
        max_files=max_files,
    )
    staged: dict[str, Staged] = {}
    try:
        if not received.files:
            raise ApiError(400, "no file in the upload (send the images as file parts)", code="bad_request")
        if len(received.files) == 1 and is_zip(received.files[0]):
            result, staged = await asyncio.to_thread(_from_zip, received, settings, blobs.writer_tmp)
            if not result.ok:
                raise _problems(result.problems)
            specs, source = result.products, "zip"
        else:
            too_big = [f.filename for f in received.files if f.size > cfg.max_image_bytes]
            if too_big:
                raise ApiError(
                    413,
                    f"image {too_big[0][:80]!r} is larger than {cfg.max_image_bytes} bytes",
                    code="payload_too_large",
                )
            spec = _single_product(received)
            staged = {
                name: Staged(name=name, tmp=f.path)
                for name, f in zip(spec.images, received.files, strict=True)
            }
            specs, source = [spec], "upload"
        try:
            created = await asyncio.to_thread(
                create_batch,
                get_engine(request),
                blobs,
                settings,
                specs=specs,
                staged=staged,
                source=source,
                created_by=caller.username,
            )
        except IntakeRefused as exc:
            unsupported = source == "upload" and all(
                "not accepted" in p.message or "not a recognised image" in p.message for p in exc.problems
            )
            raise _problems(exc.problems, 415 if unsupported else exc.status) from None
    finally:
        discard(staged)
        received.discard()
    workflow_id = await start_batch(temporal, settings, created.batch_id)
    log.info(
        "ingest batch received", batch_id=created.batch_id, products=len(created.products), source=source
    )
    body = views.CreatedBatchOut(
        batch_id=created.batch_id,
        workflow_id=workflow_id,
        products=[views.CreatedProductOut(**p.model_dump()) for p in created.products],
        links={"self": f"{views.BASE}/batches/{created.batch_id}"},
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": body.links["self"]}
    )


@router.get("/batches", response_model=views.BatchList, summary="Ingest batches, newest first")
def list_batches(
    request: Request, _: AnyCaller, offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> views.BatchList:
    with read_session(get_engine(request)) as s:
        total, rows = repo.list_batches(s, offset=offset, limit=limit)
    items = [
        {"id": b.id, "status": b.status, "products": b.products, "source": b.source, "created_at": b.created_at.isoformat(),
         "links": {"self": f"{views.BASE}/batches/{b.id}"}}
        for b in rows
    ]  # fmt: skip
    return views.BatchList(total=total, offset=offset, limit=limit, items=items)


@router.get(
    "/batches/{batch_id}",
    response_model=views.BatchOut,
    summary="One batch: counts by status and its products (paged)",
    responses=error_responses(404),
)
async def get_batch(
    request: Request,
    _: AnyCaller,
    temporal: Temporal,
    batch_id: Id,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> views.BatchOut:
    def read() -> views.BatchOut | None:
        with read_session(get_engine(request)) as s:
            from activities.ingest.tables import IngestBatch

            b = s.get(IngestBatch, batch_id)
            if b is None:
                return None
            counts = repo.status_counts(s, batch_id)
            return views.batch(
                b, counts, repo.list_products(s, batch_id=batch_id, offset=offset, limit=limit), offset, limit
            )

    out = await asyncio.to_thread(read)
    if out is None:
        raise ApiError(404, f"no ingest batch {batch_id}")
    if out.status in ("pending", "running"):
        from workflows.ingest.contract import batch_workflow_id

        try:
            live = await temporal.get_workflow_handle(batch_workflow_id(batch_id)).query(
                PROGRESS_QUERY, result_type=BatchProgress, rpc_timeout=timedelta(seconds=3)
            )
            out.progress = live.model_dump()
        except Exception as exc:  # no worker right now: the database counts stand
            log.info("batch progress query unavailable", batch_id=batch_id, error=str(exc)[:200])
    return out


def _attributes(p: Any) -> list[views.AttributeOut]:
    raw = [
        *p.extraction.get("attributes", []),
        *(p.extraction.get("ocr") or {}).get("attributes", []),
        *p.catalog.get("attributes", []),
        *p.draft.get("attributes", []),
    ]
    best = best_by_name(Attribute.model_validate(a) for a in raw)
    return [
        views.AttributeOut(**a.model_dump(include={"name", "value", "confidence", "source", "evidence"}))
        for a in best.values()
    ]


@router.get(
    "/products/{product_id}",
    response_model=views.ProductOut,
    summary="One product: its images, attributes (confidence, source), draft, per-marketplace listing and outcome",
    responses=error_responses(404),
)
def get_product(request: Request, _: AnyCaller, product_id: Id) -> views.ProductOut:
    with read_session(get_engine(request)) as s:
        try:
            p = repo.product(s, product_id)
        except LookupError:
            raise ApiError(404, f"no ingest product {product_id}") from None
        images = repo.images(s, product_id)
        listings = list(repo.listing_outcomes(s, product_id).values())
    return views.product(p, images, _attributes(p), listings)
