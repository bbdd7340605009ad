"""Error taxonomy shared by every connector.

Retryable: 429, 5xx, timeouts, connection resets, optimistic-concurrency conflicts (eBay 25025).
Non-retryable: validation, authentication / authorisation, not found. Activities map these onto Temporal retries or
`ApplicationError(non_retryable=True)` (activities/common/errors.py), so a workflow never hammers a request that cannot succeed.
"""

from __future__ import annotations


class ConnectorError(Exception):
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        marketplace: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.marketplace = marketplace
        self.operation = operation
        self.status = status
        self.code = code
        self.retry_after = retry_after
        # A write was sent and no answer came back (timeout, 5xx): it may or may not have been applied. The
        # transport never resends such a write; the caller re-reads what is current and decides (connectors/http.py).
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        where = ":".join(p for p in (self.marketplace, self.operation) if p)
        bits = [
            f"[{where}]" if where else "",
            f"HTTP {self.status}" if self.status else "",
            self.code or "",
            self.message,
        ]
        return " ".join(b for b in bits if b)


class RetryableError(ConnectorError):
    retryable = True


class RateLimited(RetryableError):
    """429 / throttled. `retry_after` is the advertised wait in seconds when the marketplace gave one."""


class ServerError(RetryableError):
    """5xx from the marketplace."""


class TransportError(RetryableError):
    """Timeout, connection refused / reset, protocol error: the request may or may not have been applied."""


class ConcurrentModification(RetryableError):
    """The marketplace saw a concurrent change (eBay 25025). Retry after a short wait."""


class NonRetryableError(ConnectorError):
    retryable = False


class AuthError(NonRetryableError):
    """Credentials rejected even after a token refresh."""


class NotFoundError(NonRetryableError):
    pass


class ValidationError(NonRetryableError):
    """The marketplace refused the request's content (400 / 422 / schema errors)."""


class WebhookRejected(NonRetryableError):
    """Signature missing or wrong, or the body is not a valid event."""
