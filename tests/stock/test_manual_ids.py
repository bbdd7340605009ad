"""Ids of runs someone asked for through the API: a double click joins the run; another deployment sharing the
Temporal namespace (its own task queue prefix) never does. Pure functions, no fixtures."""

from __future__ import annotations

from datetime import UTC, datetime

from workflows.repricing.contract import RepriceFilter, RepriceRunInput, manual_run_id
from workflows.stock.contract import manual_reconcile_id

AT = datetime(2026, 12, 3, 15, 4, 10, tzinfo=UTC)
LATER_SAME_MINUTE = datetime(2026, 12, 3, 15, 4, 59, tzinfo=UTC)
NEXT_MINUTE = datetime(2026, 12, 3, 15, 5, 0, tzinfo=UTC)


def test_a_reconcile_asked_twice_within_a_minute_is_one_run_per_deployment() -> None:
    one = manual_reconcile_id([2, 1], AT, deployment="merchflow")
    assert one == manual_reconcile_id([1, 2, 2], LATER_SAME_MINUTE, deployment="merchflow")
    assert one != manual_reconcile_id([1, 2], NEXT_MINUTE, deployment="merchflow")
    assert one != manual_reconcile_id([1], AT, deployment="merchflow")
    assert one != manual_reconcile_id([1, 2], AT, deployment="staging")
    assert manual_reconcile_id(None, AT, deployment="a") != manual_reconcile_id(None, AT, deployment="b")


def test_a_reprice_asked_twice_within_a_minute_is_one_run_per_deployment() -> None:
    inp = RepriceRunInput(dry_run=True, filters=RepriceFilter(account_ids=[1]), requested_by="alice")
    one = manual_run_id(inp, AT, deployment="merchflow")
    assert one == manual_run_id(inp.model_copy(), LATER_SAME_MINUTE, deployment="merchflow")
    assert one != manual_run_id(inp, AT, deployment="staging")
    assert one != manual_run_id(inp.model_copy(update={"dry_run": False}), AT, deployment="merchflow")
