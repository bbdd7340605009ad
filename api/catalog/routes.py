"""Catalog imports: upload a CSV / JSON-lines file, follow its progress, read its per-row report."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.catalog import repository
from api.catalog import views
from api.deps import AnyCaller, AppSettings, Blobs, Operator, Temporal, get_engine
from api.errors import ApiError, error_responses
from api.inputs import Offset, declared_length
from api.routing import ApiRoute
from api.uploads import MULTIPART_OVERHEAD, UploadSink, format_from, reject, stream_multipart, stream_raw
from domain.bounds import MAX_OFFSET
from domain.catalog.presets import ImportOptions
from merchflow.logging import get_logger
from workflows.catalog.contract import (
    IMPORT_WORKFLOW,
    PROGRESS_QUERY,
    TASK_QUEUE,
    CatalogImportInput,
    CatalogImportProgress,
    import_workflow_id,
)

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], route_class=ApiRoute)
log = get_logger(__name__)
ImportId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file and its format")]


@router.post(
    "/imports",
    status_code=202,
    response_model=views.CreatedImport,
    summary="Upload a catalog (CSV or JSON lines) and start importing it",
    description="Send the file as multipart field `file`, or as the raw body with `Content-Type: text/csv` or "
    "`application/x-ndjson`. Re-uploading the same file returns the existing import (200) instead of "
    "starting a new one. Files above the upload limit are refused with 413 while streaming.",
    responses={
        200: {"description": "This file was uploaded before: the existing import"},
        **error_responses(400, 413, 415),
    },
)
async def create_import(
    request: Request,
    caller: Operator,
    settings: AppSettings,
    temporal: Temporal,
    blobs: Blobs,
    file_format: Annotated[Literal["csv", "jsonl"] | None, Query(alias="format")] = None,
    filename: Annotated[str | None, Query(max_length=300)] = None,
    preset: Annotated[
        Literal["shopify", "woocommerce", "amazon"] | None,
        Query(
            description="the export the file comes from: Shopify products CSV, WooCommerce product CSV, Amazon inventory / flat file"
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        Query(
            max_length=4000,
            description='our field -> your column, JSON: {"sku": "Item code", "cost": "Unit cost"}',
        ),
    ] = None,
    stock: Annotated[
        Literal["set", "ignore"],
        Query(description="quantity column: new SKUs always get it; existing ones only with set"),
    ] = "ignore",
) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    limit = settings.max_upload_bytes
    declared = declared_length(request)
    if declared is not None and declared > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise reject(
            f"the upload is larger than the limit of {limit} bytes",
            "payload_too_large",
            413,
            {"limit_bytes": limit},
        )
    options = _options(preset, mapping, stock)

    def open_sink(name: str | None, part_type: str | None) -> UploadSink:
        fmt = file_format or format_from(part_type, name)
        if fmt is None:
            raise reject(
                "cannot tell the file format: send text/csv or application/x-ndjson, name the file "
                "*.csv / *.jsonl, or add ?format=csv|jsonl",
                "unsupported_media_type",
                415,
            )
        return UploadSink(
            blobs.writer_tmp(),
            limit=limit,
            file_format=fmt,
            filename=name or f"upload.{fmt}",
            options=options,
        )

    if multipart:
        sink = await stream_multipart(request.stream(), content_type, open_sink)
    else:
        sink = open_sink(filename, content_type)
        try:
            await stream_raw(request.stream(), sink)
        except BaseException:
            sink.discard()
            raise
    try:
        import_id = sink.close()
    except BaseException:
        sink.discard()
        raise
    blob_key = f"catalog-{import_id}.{sink.file_format}"
    # the store may be S3: its calls block, so they run off the event loop
    if await asyncio.to_thread(blobs.exists, blob_key):
        sink.path.unlink(missing_ok=True)  # same bytes already stored
    else:
        content_type = "text/csv" if sink.file_format == "csv" else "application/x-ndjson"
        await asyncio.to_thread(blobs.commit, sink.path, blob_key, content_type=content_type)

    engine = get_engine(request)
    workflow_id = import_workflow_id(import_id)
    row, created = await asyncio.to_thread(
        repository.create_pending,
        engine,
        values={
            "id": import_id,
            "filename": (filename or sink.filename)[:300],
            "file_format": sink.file_format,
            "size_bytes": sink.size,
            "created_by": caller.username,
            "workflow_id": workflow_id,
        },
    )
    if row["status"] == "pending":
        # Also for an existing pending import: its first start may have failed (Temporal down) after the
        # row was written. Reject-duplicate + use-existing make this a no-op when the workflow exists.
        inp = CatalogImportInput(
            import_id=import_id,
            blob_key=blob_key,
            file_format=row["file_format"],
            filename=row["filename"],
            size_bytes=row["size_bytes"],
            created_by=row["created_by"],
            batch_size=settings.catalog_import_batch_size,
            options=options,
        )
        start = functools.partial(
            temporal.start_workflow,
            IMPORT_WORKFLOW,
            inp,
            id=workflow_id,
            task_queue=settings.task_queue(TASK_QUEUE),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            await start(id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            # A closed run exists, yet this database still has the import pending: that run worked on another
            # database (app database reset, Temporal history kept). Importing again is safe: it is idempotent.
            log.warning(
                "temporal remembers an import this database does not; importing again", import_id=import_id
            )
            await start(id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    log.info("catalog upload received", import_id=import_id, bytes=sink.size, existing=not created)
    body = views.CreatedImport(**views.summary(row).model_dump(), existing=not created)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=202 if created else 200,
        headers={"Location": body.links.self},
    )


def _options(preset: str | None, mapping: str | None, stock: str) -> ImportOptions | None:
    """None for our own columns with the default stock mode (the import then keeps the id it always had)."""
    try:
        parsed = json.loads(mapping) if mapping else {}
        if not isinstance(parsed, dict):
            raise ValueError("the mapping must be a JSON object")
        options = ImportOptions(preset=preset, mapping=parsed, stock=stock)  # type: ignore[arg-type]
    except (ValueError, ValidationError) as exc:
        raise reject(f"mapping: {exc}", "bad_mapping") from None
    return options if options.identity() else None


@router.get("/imports", response_model=views.ImportList, summary="Catalog imports, newest first")
async def list_imports(
    request: Request,
    _: AnyCaller,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> views.ImportList:
    total, rows = await asyncio.to_thread(
        repository.list_imports, get_engine(request), offset=offset, limit=limit
    )
    return views.ImportList(total=total, offset=offset, limit=limit, items=[views.summary(r) for r in rows])


@router.get(
    "/imports/{import_id}",
    response_model=views.ImportDetail,
    summary="One import: status, progress, counts and its per-row report (paged)",
    responses=error_responses(404),
)
async def get_import(
    request: Request,
    _: AnyCaller,
    temporal: Temporal,
    import_id: ImportId,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="first report line")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="report lines per page")] = 100,
    severity: Annotated[Literal["error", "warning"] | None, Query()] = None,
) -> views.ImportDetail:
    engine = get_engine(request)
    row = await asyncio.to_thread(repository.get_import, engine, import_id)
    if row is None:
        raise ApiError(404, f"no catalog import {import_id}")
    progress = views.progress_from_db(row)
    if row["status"] == "running" and row["workflow_id"]:
        handle: WorkflowHandle = temporal.get_workflow_handle(row["workflow_id"])
        try:
            live = await handle.query(
                PROGRESS_QUERY, result_type=CatalogImportProgress, rpc_timeout=timedelta(seconds=3)
            )
            progress = views.progress_from_workflow(live)
        except Exception as exc:  # no worker right now: the database counters are one batch behind at most
            log.info("progress query unavailable", import_id=import_id, error=str(exc))
    report = await asyncio.to_thread(
        views.issue_page, engine, import_id, offset=offset, limit=limit, severity=severity
    )
    return views.ImportDetail(**views.summary(row).model_dump(), progress=progress, report=report)
