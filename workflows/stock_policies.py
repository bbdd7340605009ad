"""Retry policy and timeouts shared by the stock workflows (workflows/stock.py, workflows/stock_reconcile.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

FAST = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
DB = timedelta(seconds=30)
PUSH = timedelta(minutes=5)
# Long activities heartbeat every 5 s while alive (activities/stock_push.kept_alive): a dead worker's attempt is
# retried elsewhere after this long, not after the whole start-to-close timeout.
HEARTBEAT = timedelta(seconds=20)
