"""Catalog imports: upload a CSV / JSON-lines file, follow its progress, read its per-row report."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.catalog_types import CatalogImportInput
from api import catalog_views as views
from api.deps import AnyCaller, AppSettings, Operator, Temporal, get_engine
from api.errors import ApiError
from api.uploads import MULTIPART_OVERHEAD, UploadSink, format_from, reject, stream_multipart, stream_raw
from merchflow.blobs import FileBlobStore
from merchflow.logging import get_logger
from workers.registry import MAIN_QUEUE
from workflows.catalog_import import CatalogImportWorkflow, workflow_id_for

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
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
    responses={200: {"description": "This file was uploaded before: the existing import"}},
)
async def create_import(
    request: Request,
    caller: Operator,
    settings: AppSettings,
    temporal: Temporal,
    file_format: Annotated[Literal["csv", "jsonl"] | None, Query(alias="format")] = None,
    filename: Annotated[str | None, Query(max_length=300)] = None,
) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise reject(
            f"the upload is larger than the limit of {limit} bytes",
            "payload_too_large",
            413,
            {"limit_bytes": limit},
        )
    blobs = FileBlobStore(settings.blob_dir)

    def open_sink(name: str | None, part_type: str | None) -> UploadSink:
        fmt = file_format or format_from(part_type, name)
        if fmt is None:
            raise reject(
                "cannot tell the file format: send text/csv or application/x-ndjson, name the file "
                "*.csv / *.jsonl, or add ?format=csv|jsonl",
                "unsupported_media_type",
                415,
            )
        return UploadSink(blobs.writer_tmp(), limit=limit, file_format=fmt, filename=name or f"upload.{fmt}")

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
    if blobs.exists(blob_key):
        sink.path.unlink(missing_ok=True)  # same bytes already stored
    else:
        blobs.commit(sink.path, blob_key)

    engine = get_engine(request)
    workflow_id = workflow_id_for(import_id)
    row, created = await asyncio.to_thread(
        views.create_pending,
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
        )
        start = functools.partial(
            temporal.start_workflow,
            CatalogImportWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=settings.task_queue(MAIN_QUEUE),
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


@router.get("/imports", response_model=views.ImportList, summary="Catalog imports, newest first")
async def list_imports(
    request: Request,
    _: AnyCaller,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> views.ImportList:
    total, rows = await asyncio.to_thread(views.list_imports, get_engine(request), offset=offset, limit=limit)
    return views.ImportList(total=total, offset=offset, limit=limit, items=[views.summary(r) for r in rows])


@router.get(
    "/imports/{import_id}",
    response_model=views.ImportDetail,
    summary="One import: status, progress, counts and its per-row report (paged)",
)
async def get_import(
    request: Request,
    _: AnyCaller,
    temporal: Temporal,
    import_id: ImportId,
    offset: Annotated[int, Query(ge=0, description="first report line")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="report lines per page")] = 100,
    severity: Annotated[Literal["error", "warning"] | None, Query()] = None,
) -> views.ImportDetail:
    engine = get_engine(request)
    row = await asyncio.to_thread(views.get_import, engine, import_id)
    if row is None:
        raise ApiError(404, f"no catalog import {import_id}")
    progress = views.progress_from_db(row)
    if row["status"] == "running" and row["workflow_id"]:
        handle: WorkflowHandle = temporal.get_workflow_handle(row["workflow_id"])
        try:
            live = await handle.query(CatalogImportWorkflow.progress, rpc_timeout=timedelta(seconds=3))
            progress = views.progress_from_workflow(live)
        except Exception as exc:  # no worker right now: the database counters are one batch behind at most
            log.info("progress query unavailable", import_id=import_id, error=str(exc))
    report = await asyncio.to_thread(
        views.issue_page, engine, import_id, offset=offset, limit=limit, severity=severity
    )
    return views.ImportDetail(**views.summary(row).model_dump(), progress=progress, report=report)
