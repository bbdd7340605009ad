"""Retry policies, timeouts and the per-item retry loop shared by the workflows of every process.

Temporal retries an activity as a whole; a bulk push also retries just the items the marketplace failed, a
bounded number of rounds with backoff, each round under its own idempotency key (`<key>:retry<n>`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

# Errors no retry can heal: bad input (a failed validation, a number out of range, a row that does not exist, a
# refused credential) fails the same way on every attempt. Temporal matches these against the failure's type - the
# exception's class name, or ApplicationError(type=...) - so the workflow gets the failure at once and reports it,
# instead of an activity retrying forever. Every policy here carries them; tests/architecture checks that no
# workflow builds a RetryPolicy of its own.
UNHEALABLE = (
    "ValidationError",  # pydantic, and connectors.errors.ValidationError (a marketplace refused the content)
    "ValueError",
    "TypeError",
    "OverflowError",  # e.g. an integer SQLite cannot store
    "KeyError",  # e.g. "no marketplace account 12"
    "LookupError",
    "NotFoundError",
    "AuthError",
    "InvalidOperation",  # decimal
    "DataError",  # sqlalchemy: PostgreSQL refused a value (numeric out of range, invalid text)
    "InvalidPolicy",
)


def retry(
    initial: timedelta,
    maximum: timedelta,
    *,
    attempts: int = 0,
    backoff: float = 2.0,
) -> RetryPolicy:
    """A retry policy that never retries UNHEALABLE errors. `attempts=0`: transient trouble (a database restarting,
    a marketplace down, a killed worker) is retried until it passes, at most `maximum` apart."""
    return RetryPolicy(
        initial_interval=initial,
        backoff_coefficient=backoff,
        maximum_interval=maximum,
        maximum_attempts=attempts,
        non_retryable_error_types=list(UNHEALABLE),
    )


# Short database / bookkeeping activities: quick first retry, then back off.
FAST = retry(timedelta(milliseconds=200), timedelta(seconds=30))
# Long batch activities (pricing, pushes by range): a slower first retry.
STEADY = retry(timedelta(milliseconds=300), timedelta(minutes=1))
# Optional enrichment (competitor prices, notices): a few tries, then the caller goes on without it.
FEW = retry(timedelta(seconds=1), timedelta(seconds=30), attempts=5)
# A step that must finish but whose every attempt failing means a bug: the workflow ends failed with the reason.
BOUNDED = retry(timedelta(seconds=1), timedelta(seconds=30), attempts=20)
# Reading an order a notification named: it may not be visible on the marketplace for a few seconds.
READ_SOON = retry(timedelta(milliseconds=300), timedelta(seconds=30), attempts=20)
# Acting on an approved decision: a few minutes of retries, then the decision is reported as failed.
ACT = retry(timedelta(seconds=1), timedelta(minutes=1), attempts=10)
# Delivering a notice: a mail server down for an hour should not lose it; after that the outbox keeps it.
DELIVERY = retry(timedelta(seconds=5), timedelta(minutes=10), attempts=12)
# A probe that reports what happens now (account-test): one attempt, a retry would hide the answer.
ONCE = retry(timedelta(seconds=1), timedelta(seconds=1), attempts=1)

DB = timedelta(seconds=30)
DB_BATCH = timedelta(minutes=2)
PUSH = timedelta(minutes=5)
# Long activities heartbeat every 5 s while alive (activities.common.heartbeats.kept_alive): a dead worker's attempt
# is retried elsewhere after this long, not after the whole start-to-close timeout.
HEARTBEAT = timedelta(seconds=20)

ITEM_RETRIES = 5  # per-item retry rounds of a bulk push, after the first round


def item_backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(30, 2**attempt))


async def retry_failed_items(push_round: Callable[[str], Awaitable[bool]], key: str) -> None:
    """Run `push_round(key)`; while it reports items still failing, wait (backoff) and run another round under
    `<key>:retry<n>`, at most ITEM_RETRIES more rounds. The caller's closure keeps the items' outcomes."""
    if not await push_round(key):
        return
    for attempt in range(ITEM_RETRIES):
        await workflow.sleep(item_backoff(attempt))
        if not await push_round(f"{key}:retry{attempt}"):
            return
