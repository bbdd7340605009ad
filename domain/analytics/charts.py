"""Dashboard charts as Vega-Lite specs built with Altair, rendered to SVG by vl-convert (compiled, offline: no
browser, no CDN). Inputs are plain lists of dicts, so the API process renders a SKU's chart without pandas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt

WIDTH = 560


def to_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_dict()))


def aging_chart(buckets: Sequence[dict[str, Any]]) -> str:
    rows = [{"bucket": b["bucket"], "what": what, "value": float(b[key])}
            for b in buckets for what, key in (("stock value", "value"), ("value at risk", "value_at_risk"))]  # fmt: skip
    chart = (
        alt.Chart(alt.Data(values=rows), width=WIDTH, height=220, title="Inventory aging (days on hand)")
        .mark_bar()
        .encode(
            x=alt.X("bucket:N", sort=[b["bucket"] for b in buckets], title="age bucket"),
            xOffset="what:N",
            y=alt.Y("value:Q", title="value"),
            color=alt.Color("what:N", title=None),
        )
    )
    return to_svg(chart)


def _ranking(rows: Sequence[dict[str, Any]], metric: str, title: str) -> alt.Chart:
    data = [{"sku": r["sku"], "value": float(r[metric] or 0.0)} for r in rows]
    return (
        alt.Chart(alt.Data(values=data), width=WIDTH // 2 - 60, height=220, title=title)
        .mark_bar()
        .encode(y=alt.Y("sku:N", sort="-x", title=None), x=alt.X("value:Q", title=metric))
    )


def top_worst_chart(top: Sequence[dict[str, Any]], worst: Sequence[dict[str, Any]], metric: str) -> str:
    """The top and the worst SKUs by `metric`, side by side in one picture."""
    return to_svg(
        alt.hconcat(
            _ranking(top, metric, f"Top 10 by {metric}"), _ranking(worst, metric, f"Worst 10 by {metric}")
        )
    )


def projection_chart(daily: Sequence[dict[str, Any]], title: str) -> str:
    base = alt.Chart(alt.Data(values=list(daily)), width=WIDTH, height=220, title=title)
    band = base.mark_area(opacity=0.25).encode(
        x=alt.X("ds:T", title="day"), y=alt.Y("low:Q", title="revenue"), y2="high:Q"
    )
    line = base.mark_line().encode(x="ds:T", y="expected:Q")
    return to_svg(band + line)


def forecast_chart(actual: Sequence[dict[str, Any]], forecast: Sequence[dict[str, Any]], sku: str) -> str:
    """Daily actuals, then the forecast with its 80 % and 95 % intervals."""
    title = f"{sku}: sales and forecast"
    past = (
        alt.Chart(alt.Data(values=list(actual)), width=WIDTH, height=240, title=title)
        .mark_line(color="#444")
        .encode(x=alt.X("ds:T", title="day"), y=alt.Y("y:Q", title="units"))
    )
    fut = alt.Chart(alt.Data(values=list(forecast)))
    band95 = fut.mark_area(opacity=0.15, color="#1f77b4").encode(x="ds:T", y="lo95:Q", y2="hi95:Q")
    band80 = fut.mark_area(opacity=0.3, color="#1f77b4").encode(x="ds:T", y="lo80:Q", y2="hi80:Q")
    line = fut.mark_line(color="#1f77b4").encode(x="ds:T", y="yhat:Q")
    return to_svg(past + band95 + band80 + line)
