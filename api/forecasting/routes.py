"""Sales history and forecasts: upload sales (CSV / JSON lines) and follow the import, start a forecast run and
follow it, read a SKU's forecast with its model and backtest errors."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.forecasting import sales_repository as repo
from activities.forecasting.tables import ForecastModelRow, ForecastRunRow, ForecastSeriesRow
from api.deps import AnyCaller, AppSettings, Blobs, Operator, ReadSession, Temporal, get_engine
from api.errors import ApiError, error_responses
from api.inputs import Offset, declared_length
from api.routing import ApiRoute
from api.uploads import MULTIPART_OVERHEAD, UploadSink, format_from, reject, stream_multipart, stream_raw
from domain.bounds import Flag
from domain.forecasting.sales import check_sales_header
from merchflow.db.types import utcnow
from workflows.forecasting.contract import (
    FORECAST_RUN_WORKFLOW,
    PROGRESS_QUERY,
    SALES_IMPORT_WORKFLOW,
    TASK_QUEUE,
    ForecastProgress,
    ForecastRunInput,
    SalesImportInput,
    SalesImportProgress,
    manual_forecast_run_id,
    sales_import_workflow_id,
)

router = APIRouter(tags=["forecasting"], route_class=ApiRoute)
ImportId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file and its format")]
Sku = Annotated[str, Path(min_length=1, max_length=64)]
BASE = "/api/v1/sales/imports"


def _import_view(row: sa.RowMapping) -> dict[str, Any]:
    keys = ("id", "status", "filename", "file_format", "size_bytes", "total_rows", "processed_rows", "valid_rows",
            "invalid_rows", "inserted", "duplicates", "error", "workflow_id", "created_by", "created_at",
            "finished_at")  # fmt: skip
    return {**{k: row[k] for k in keys}, "links": {"self": f"{BASE}/{row['id']}"}}


@router.post(
    BASE, status_code=202, summary="Upload sales history (CSV or JSON lines) and start importing it",
    description="Columns: date, sku, quantity (negative = return); optional unit_price, channel, store, buyer_id, "
    "order_id. Multipart field `file`, or the raw body as text/csv or application/x-ndjson. Buyer ids are stored "
    "only as a keyed hash. The same file again returns the existing import (200); rows already imported by an "
    "earlier file are counted as duplicates, never added twice.",
    responses={200: {"description": "This file was uploaded before"}, **error_responses(400, 413, 415)},
)  # fmt: skip
async def create_sales_import(
    request: Request, caller: Operator, settings: AppSettings, temporal: Temporal, blobs: Blobs,
    file_format: Annotated[Literal["csv", "jsonl"] | None, Query(alias="format")] = None,
    filename: Annotated[str | None, Query(max_length=300)] = None,
) -> JSONResponse:  # fmt: skip
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    limit = settings.max_upload_bytes
    declared = declared_length(request)
    if declared is not None and declared > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise reject(f"the upload is larger than the limit of {limit} bytes", "payload_too_large", 413,
                     {"limit_bytes": limit})  # fmt: skip

    def open_sink(name: str | None, part_type: str | None) -> UploadSink:
        fmt = file_format or format_from(part_type, name)
        if fmt is None:
            raise reject("cannot tell the file format: send text/csv or application/x-ndjson, name the file *.csv / "
                         "*.jsonl, or add ?format=csv|jsonl", "unsupported_media_type", 415)  # fmt: skip
        return UploadSink(blobs.writer_tmp(), limit=limit, file_format=fmt, filename=name or f"sales.{fmt}",
                          header_check=check_sales_header, rows_noun="sale")  # fmt: skip

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
    blob_key = f"sales-{import_id}.{sink.file_format}"
    if await asyncio.to_thread(blobs.exists, blob_key):
        sink.path.unlink(missing_ok=True)
    else:
        await asyncio.to_thread(blobs.commit, sink.path, blob_key, content_type=content_type or "text/plain")
    wid = sales_import_workflow_id(import_id, deployment=settings.temporal.task_queue_prefix)
    row, created = await asyncio.to_thread(
        repo.create_pending, get_engine(request),
        values={"id": import_id, "filename": (filename or sink.filename)[:300], "file_format": sink.file_format,
                "size_bytes": sink.size, "created_by": caller.username, "workflow_id": wid},
    )  # fmt: skip
    if row["status"] == "pending":
        inp = SalesImportInput(
            import_id=import_id, blob_key=blob_key, file_format=row["file_format"], filename=row["filename"],
            size_bytes=row["size_bytes"], created_by=row["created_by"],
            batch_size=settings.forecasting.import_batch_size,
        )  # fmt: skip
        start = functools.partial(
            temporal.start_workflow, SALES_IMPORT_WORKFLOW, inp, id=wid, task_queue=settings.task_queue(TASK_QUEUE),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
        try:
            await start(id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            await start(id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)  # another database; idempotent
    body = {**_import_view(row), "existing": not created}
    return JSONResponse(
        jsonable_encoder(body),
        status_code=202 if created else 200,
        headers={"Location": body["links"]["self"]},
    )


@router.get(f"{BASE}/{{import_id}}", summary="A sales import: counts, progress and its per-row report (paged)",
            responses=error_responses(404))  # fmt: skip
async def get_sales_import(
    request: Request, _: AnyCaller, temporal: Temporal, import_id: ImportId, offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:  # fmt: skip
    engine = get_engine(request)
    row = await asyncio.to_thread(repo.get_import, engine, import_id)
    if row is None:
        raise ApiError(404, f"no sales import {import_id}")
    progress: dict[str, Any] | None = None
    if row["status"] == "running" and row["workflow_id"]:
        try:
            live = await temporal.get_workflow_handle(row["workflow_id"]).query(
                PROGRESS_QUERY, result_type=SalesImportProgress, rpc_timeout=timedelta(seconds=3)
            )
            progress = live.model_dump()
        except Exception:  # no worker right now: the counters above are at most one batch behind
            progress = None
    total, issues = await asyncio.to_thread(repo.issue_rows, engine, import_id, offset=offset, limit=limit)
    report = [{k: r[k] for k in ("row_number", "field", "code", "severity", "message")} for r in issues]
    return {**_import_view(row), "progress": progress,
            "report": {"total": total, "offset": offset, "limit": limit, "items": report}}  # fmt: skip


class RunRequest(BaseModel):
    retrain: Flag | None = None  # None: when the last backtest is a week old (settings)
    replenish: Flag = True


@router.post("/api/v1/forecasting/runs", status_code=202, summary="Start a forecast run now")
async def start_run(
    body: RunRequest, caller: Operator, settings: AppSettings, temporal: Temporal
) -> dict[str, str]:
    wid = manual_forecast_run_id(body.retrain, utcnow(), deployment=settings.temporal.task_queue_prefix)
    try:
        await temporal.start_workflow(
            FORECAST_RUN_WORKFLOW,
            ForecastRunInput(retrain=body.retrain, replenish=body.replenish, requested_by=caller.username),
            id=wid, task_queue=settings.task_queue(TASK_QUEUE),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
    except WorkflowAlreadyStartedError:
        pass
    return {"id": wid, "status_url": f"/api/v1/forecasting/runs/{wid}"}


@router.get("/api/v1/forecasting/runs/{run_id}", summary="A forecast run: status, counts, backtest errors",
            responses=error_responses(404))  # fmt: skip
async def get_run(
    run_id: Annotated[str, Path(max_length=200)], _: AnyCaller, session: ReadSession, temporal: Temporal
) -> dict[str, Any]:
    row = session.get(ForecastRunRow, run_id)
    live = None
    try:
        p = await temporal.get_workflow_handle(run_id).query(
            PROGRESS_QUERY, result_type=ForecastProgress, rpc_timeout=timedelta(seconds=3)
        )
        live = p.model_dump()
    except Exception:  # closed long ago, or no worker: the table has the outcome
        if row is None:
            raise ApiError(404, f"no forecast run {run_id!r}") from None
    out: dict[str, Any] = {"id": run_id, "live": live}
    if row is not None:
        out |= row.model_dump(exclude={"id"})
    return out


def _model_view(m: ForecastModelRow) -> dict[str, Any]:
    errors = {k: getattr(m, k) for k in ("mae", "rmse", "wape", "mase")}
    naive = {k.removeprefix("naive_"): getattr(m, k) for k in ("naive_mae", "naive_wape", "naive_mase")}
    return {"sku": m.sku, "model": m.model, "segment": m.segment, "history_days": m.n_obs, "backtest": errors,
            "seasonal_naive": naive, "trained_at": m.trained_at, "run_id": m.run_id}  # fmt: skip


@router.get("/api/v1/forecasting/skus", summary="Every SKU's model and backtest errors (paged, in SKU order)")
def list_models(
    _: AnyCaller, session: ReadSession, after: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:  # fmt: skip
    rows = session.exec(
        sa.select(ForecastModelRow).where(ForecastModelRow.sku > after).order_by(ForecastModelRow.sku).limit(limit)  # type: ignore[arg-type]
    ).scalars().all()  # fmt: skip
    return {
        "items": [_model_view(m) for m in rows],
        "next_after": rows[-1].sku if len(rows) == limit else None,
    }


@router.get("/api/v1/forecasting/skus/{sku}", summary="A SKU's forecast (daily, with 80 % and 95 % intervals), "
            "its model and the backtest errors against seasonal naive", responses=error_responses(404))  # fmt: skip
def sku_forecast(sku: Sku, _: AnyCaller, session: ReadSession) -> dict[str, Any]:
    series, model = session.get(ForecastSeriesRow, sku), session.get(ForecastModelRow, sku)
    if series is None and model is None:
        raise ApiError(404, f"no forecast for SKU {sku!r} (no sales history, or no run yet)")
    out: dict[str, Any] = _model_view(model) if model else {"sku": sku}
    if series is not None:
        start = series.start
        out["forecast"] = {
            "model": series.model, "run_id": series.run_id, "updated_at": series.updated_at,
            "days": [{"date": (start + timedelta(days=i)).isoformat(), "yhat": series.yhat[i],
                      "lo80": series.lo80[i], "hi80": series.hi80[i], "lo95": series.lo95[i], "hi95": series.hi95[i]}
                     for i in range(len(series.yhat))],
        }  # fmt: skip
    return out
