"""Fixtures of the operators' tooling tests: the stock stack's (sandboxes, API, Temporal) reused as is."""

from tests.stock.conftest import sqlite_url, stack_any_db, stack_sqlite  # noqa: F401
