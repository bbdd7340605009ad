"""The read-only dashboard: forecast vs actual with intervals for a SKU, aging, top / worst, the revenue
projection - each a chart rendered on the server (Vega-Lite via Altair, SVG by vl-convert) with its numbers in a
table. Same login and roles as the approver pages; every report is read from the nightly snapshots, only the
chosen SKU's chart is drawn per request (and cached per forecast run)."""

from __future__ import annotations

import asyncio
import base64
import functools
from datetime import date, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from activities.analytics.tables import AnalyticsSnapshot
from activities.forecasting.tables import ForecastModelRow, ForecastRunRow, ForecastSeriesRow, SalesLine
from activities.replenishment.tables import ReplenishmentPlanRow
from api.deps import get_engine
from api.web.render import render
from api.web.session import CurrentUser, WebRoute
from domain.analytics.charts import forecast_chart
from merchflow.db.engine import read_session

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HISTORY_DAYS = 90
SL = SalesLine.__table__  # type: ignore[attr-defined]


def data_uri(svg: str | None) -> str | None:
    # as an <img>: the page's CSP allows data: images, and no chart text can ever become markup
    return None if not svg else "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@functools.lru_cache(maxsize=256)
def _sku_chart(
    sku: str, version: str, actual: tuple[tuple[str, float], ...], forecast: tuple[tuple[Any, ...], ...]
) -> str:
    """`version` (run id + update time) keys the cache: a new forecast draws a new chart."""
    past = [{"ds": d, "y": y} for d, y in actual]
    future = [dict(zip(("ds", "yhat", "lo80", "hi80", "lo95", "hi95"), f, strict=True)) for f in forecast]
    return forecast_chart(past, future, sku)


def _sku_view(engine: sa.Engine, sku: str) -> dict[str, Any] | None:
    with read_session(engine) as s:
        series, model = s.get(ForecastSeriesRow, sku), s.get(ForecastModelRow, sku)
        plan = s.get(ReplenishmentPlanRow, sku)
        if series is None:
            return None
        since = series.start - timedelta(days=HISTORY_DAYS)
        rows = s.execute(
            sa.select(SL.c.sold_on, sa.func.sum(SL.c.quantity)).where(SL.c.sku == sku, SL.c.sold_on >= since)
            .group_by(SL.c.sold_on).order_by(SL.c.sold_on)
        ).all()  # fmt: skip
    by_day = {d: float(q) for d, q in rows}
    actual = tuple(((since + timedelta(days=i)).isoformat(), by_day.get(since + timedelta(days=i), 0.0))
                   for i in range(HISTORY_DAYS))  # fmt: skip
    forecast = tuple(
        ((series.start + timedelta(days=i)).isoformat(), series.yhat[i], series.lo80[i], series.hi80[i],
         series.lo95[i], series.hi95[i])
        for i in range(len(series.yhat))
    )  # fmt: skip
    return {"sku": sku, "series": series, "model": model, "plan": plan, "actual": actual, "forecast": forecast,
            "version": f"{series.run_id}:{series.updated_at.isoformat()}"}  # fmt: skip


def _page_data(engine: sa.Engine, sku: str | None) -> dict[str, Any]:
    with read_session(engine) as s:
        snaps = {r.name: r for r in s.execute(sa.select(AnalyticsSnapshot)).scalars()}
        last_run = s.execute(
            sa.select(ForecastRunRow).order_by(ForecastRunRow.started_at.desc()).limit(1)  # type: ignore[attr-defined]
        ).scalars().first()  # fmt: skip
        if not sku:
            top = snaps.get("top_worst")
            tops = top.payload.get("revenue", {}).get("top", []) if top else []
            sku = tops[0]["sku"] if tops else None
    return {"snaps": snaps, "run": last_run, "sku": sku, "sku_data": _sku_view(engine, sku) if sku else None}


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, user: CurrentUser, sku: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    engine = get_engine(request)
    data = await asyncio.to_thread(_page_data, engine, (sku or "").strip() or None)
    sku_svg = None
    if data["sku_data"] is not None:
        d = data["sku_data"]
        sku_svg = await asyncio.to_thread(_sku_chart, d["sku"], d["version"], d["actual"], d["forecast"])
    snaps = data["snaps"]
    charts = {name: data_uri(snap.svg) for name, snap in snaps.items()}
    return render(request, "analytics/dashboard.html", {
        "snaps": {n: s.payload for n, s in snaps.items()}, "charts": charts, "computed_at": {n: s.computed_at for n, s in snaps.items()},
        "run": data["run"], "sku": data["sku"], "sku_data": data["sku_data"], "sku_chart": data_uri(sku_svg),
        "today": date.today(),
    })  # fmt: skip
