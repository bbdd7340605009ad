"""Listing-sync tests run on the accounts tests' stack (sandboxes, API, worker, Temporal dev server)."""

from tests.accounts.conftest import sqlite_url, stack_any_db, stack_sqlite  # noqa: F401
