"""Analytics as JSON and as CSV exports, read from what the nightly run precomputed (the API process computes
nothing: a lookup answers in milliseconds whatever the catalogue's size)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from sqlmodel import select

from activities.analytics.tables import AnalyticsSnapshot, SkuAnalytics
from api.deps import AnyCaller, ReadSession
from api.errors import ApiError, error_responses
from api.routing import ApiRoute

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], route_class=ApiRoute)

Report = Literal["aging", "top-worst", "projection", "channels", "customers"]
SNAPSHOT = {"aging": "aging", "top-worst": "top_worst", "projection": "projection", "channels": "channels",
            "customers": "customers"}  # fmt: skip
SKU_FIELDS = (
    "sku",
    "units",
    "revenue",
    "margin",
    "velocity",
    "sell_through",
    "stockout_days",
    "days",
    "on_hand",
)


def _top_worst_rows(p: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for metric in ("revenue", "margin", "velocity"):
        for side in ("top", "worst"):
            for rank, r in enumerate(p.get(metric, {}).get(side, []), start=1):
                yield {"metric": metric, "list": side, "rank": rank, **r}


CSV_ROWS: dict[str, Callable[[dict[str, Any]], Iterable[dict[str, Any]]]] = {
    "aging": lambda p: p.get("buckets", []),
    "top-worst": _top_worst_rows,
    "projection": lambda p: p.get("daily", []),
    "channels": lambda p: p.get("channels", []),
    "customers": lambda p: p.get("segments", []),
}


def _snapshot(session: Any, report: str) -> AnalyticsSnapshot:
    snap = session.get(AnalyticsSnapshot, SNAPSHOT[report])
    if snap is None:
        raise ApiError(404, f"no {report} report yet: it is computed by the nightly forecast run "
                            "(POST /api/v1/forecasting/runs starts one now)")  # fmt: skip
    return snap  # type: ignore[no-any-return]


def _csv(rows: Iterable[dict[str, Any]], name: str, fields: Iterable[str] | None = None) -> StreamingResponse:
    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(
                    buf, fieldnames=list(fields or row), extrasaction="ignore", lineterminator="\r\n"
                )
                writer.writeheader()
            writer.writerow(row)
            if buf.tell() > 64_000:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        if writer is None and fields:
            buf.write(",".join(fields) + "\r\n")
        yield buf.getvalue()

    return StreamingResponse(lines(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip


@router.get("/skus", summary="Per SKU over the analytics window: units, revenue, margin, velocity, sell-through, "
            "stock-out days (paged in SKU order)")  # fmt: skip
def sku_figures(_: AnyCaller, session: ReadSession, after: Annotated[str, Query(max_length=64)] = "",
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:  # fmt: skip
    rows = session.exec(
        select(SkuAnalytics).where(SkuAnalytics.sku > after).order_by(SkuAnalytics.sku).limit(limit)
    ).all()  # type: ignore[arg-type]
    return {"items": [{k: getattr(r, k) for k in SKU_FIELDS} for r in rows],
            "next_after": rows[-1].sku if len(rows) == limit else None}  # fmt: skip


@router.get(
    "/skus.csv",
    summary="Per-SKU figures of every SKU as CSV (sell-through, stock-out days, ...)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "One row per SKU"}
    },
)
def sku_figures_csv(_: AnyCaller, session: ReadSession) -> StreamingResponse:
    engine = session.get_bind()

    def rows() -> Iterator[dict[str, Any]]:
        table = SkuAnalytics.__table__  # type: ignore[attr-defined]
        with engine.connect() as conn:  # type: ignore[union-attr]
            for r in conn.execute(table.select().order_by(table.c.sku)).mappings().yield_per(5000):
                yield {k: r[k] for k in SKU_FIELDS}

    return _csv(rows(), "sku-analytics", SKU_FIELDS)


@router.get("/{report}.csv", summary="The same report as CSV", responses=error_responses(404))
def report_csv(report: Annotated[Report, Path()], _: AnyCaller, session: ReadSession) -> StreamingResponse:
    snap = _snapshot(session, report)
    return _csv(CSV_ROWS[report](snap.payload), report)


@router.get("/{report}", summary="A precomputed report as JSON: aging (buckets, value at risk), top-worst (10 by "
            "revenue / margin / velocity), projection (30-day revenue with interval), channels, customers (RFM + "
            "K-Means segments)", responses=error_responses(404))  # fmt: skip
def report_json(report: Annotated[Report, Path()], _: AnyCaller, session: ReadSession) -> dict[str, Any]:
    snap = _snapshot(session, report)
    return {"report": report, "run_id": snap.run_id, "computed_at": snap.computed_at, **snap.payload}
