"""Map connector errors onto Temporal's retry semantics."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from connectors.errors import ConnectorError


def to_application_error(exc: ConnectorError) -> ApplicationError:
    """Retryable failures go back to Temporal's retry policy (honouring the marketplace's advertised wait);
    the rest fail the activity for good with the marketplace's code so operators can see why in the UI."""
    return ApplicationError(
        str(exc),
        {"marketplace": exc.marketplace, "operation": exc.operation, "status": exc.status, "code": exc.code},
        type=type(exc).__name__,
        non_retryable=not exc.retryable,
        next_retry_delay=timedelta(seconds=exc.retry_after) if exc.retry_after else None,
    )
