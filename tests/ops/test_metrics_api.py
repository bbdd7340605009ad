"""The API's /metrics: every merchflow_* family is exposed, and decisions waiting for a person are counted by
type and age from the database at scrape time."""

from __future__ import annotations

from datetime import timedelta

import httpx

from activities.decisions.tables import Decision
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from tests.conftest import make_token
from tests.ops.metrics_support import families, value

BUSINESS = {
    "merchflow_orders_synced",
    "merchflow_order_sync_latency_seconds",
    "merchflow_stock_pushes",
    "merchflow_marketplace_requests",
    "merchflow_rate_limit_wait_seconds",
    "merchflow_reconcile_drift",
    "merchflow_import_rows",
    "merchflow_scrapes",
    "merchflow_llm_tokens",
    "merchflow_llm_cost_usd",
    "merchflow_decisions_pending",
    "merchflow_decisions_pending_oldest_seconds",
}


def _decision(n: int, kind: str, age: timedelta, status: str = "pending") -> Decision:
    now = utcnow()
    return Decision(
        id=f"d-{kind}-{n}-{age.total_seconds():.0f}",
        decision_type=kind,
        subject=f"SKU-{n}",
        status=status,
        created_at=now - age,
        updated_at=now - age,
    )


async def test_metrics_expose_the_named_series_and_decisions_pending_by_type_and_age(
    api_client: httpx.AsyncClient,
) -> None:
    engine = api_client.app.state.engine  # type: ignore[attr-defined]
    r = await api_client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert BUSINESS - {
        "merchflow_decisions_pending",
        "merchflow_decisions_pending_oldest_seconds",
    } <= families(r.text)
    assert value(r.text, "merchflow_decisions_pending") == 0

    with session_scope(engine) as s:
        s.add_all(
            [
                _decision(1, "price_change", timedelta(minutes=5)),
                _decision(2, "price_change", timedelta(minutes=20)),
                _decision(3, "price_change", timedelta(hours=30)),
                _decision(4, "purchase", timedelta(hours=3)),
                _decision(5, "purchase", timedelta(hours=3), status="approved"),  # decided: not pending
            ]
        )
    text = (await api_client.get("/metrics")).text
    assert BUSINESS <= families(text)
    assert value(text, "merchflow_decisions_pending", decision_type="price_change", age="lt_1h") == 2
    assert value(text, "merchflow_decisions_pending", decision_type="price_change", age="gt_24h") == 1
    assert value(text, "merchflow_decisions_pending", decision_type="purchase", age="1h_24h") == 1
    assert value(text, "merchflow_decisions_pending", decision_type="purchase") == 1
    oldest = value(text, "merchflow_decisions_pending_oldest_seconds", decision_type="price_change")
    assert 30 * 3600 - 60 < oldest < 30 * 3600 + 600


async def test_metrics_can_require_a_token(api_client: httpx.AsyncClient) -> None:
    settings = api_client.app.state.settings  # type: ignore[attr-defined]
    settings.metrics.api_requires_token = True
    try:
        assert (await api_client.get("/metrics")).status_code == 401
        token = make_token(api_client.app.state.engine, "viewer")  # type: ignore[attr-defined]
        r = await api_client.get("/metrics", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "merchflow_orders_synced" in r.text
    finally:
        settings.metrics.api_requires_token = False


async def test_metrics_can_be_turned_off(api_client: httpx.AsyncClient) -> None:
    settings = api_client.app.state.settings  # type: ignore[attr-defined]
    settings.metrics.enabled = False
    assert (await api_client.get("/metrics")).status_code == 404
