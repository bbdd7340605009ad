"""Ids of forecast runs and sales imports someone started through the API: the same request within a minute (or
the same file) joins the existing workflow; another deployment sharing the Temporal namespace never does."""

from __future__ import annotations

from datetime import UTC, datetime

from workflows.forecasting.contract import manual_forecast_run_id, sales_import_workflow_id

AT = datetime(2026, 12, 3, 15, 4, 10, tzinfo=UTC)


def test_a_forecast_run_asked_twice_within_a_minute_is_one_run_per_deployment() -> None:
    one = manual_forecast_run_id(True, AT, deployment="merchflow")
    assert one == manual_forecast_run_id(True, AT.replace(second=59), deployment="merchflow")
    assert one != manual_forecast_run_id(True, AT.replace(minute=5, second=0), deployment="merchflow")
    assert one != manual_forecast_run_id(True, AT, deployment="staging")
    modes = {manual_forecast_run_id(r, AT, deployment="merchflow") for r in (True, False, None)}
    assert len(modes) == 3


def test_a_sales_file_is_one_import_per_deployment() -> None:
    digest = "ab" * 16
    assert sales_import_workflow_id(digest, deployment="a") == sales_import_workflow_id(
        digest, deployment="a"
    )
    assert sales_import_workflow_id(digest, deployment="a") != sales_import_workflow_id(
        digest, deployment="b"
    )
