"""Who hears how marketplace calls end, without connectors knowing about databases: the composition root
registers a listener (activities/ops/account_health.py records accounts that keep failing, for the alerts).

A listener is called in the event loop for every logical request (after the transport's retries) and must
return at once: anything slow belongs in a thread it starts itself.
"""

from __future__ import annotations

from collections.abc import Callable

# (marketplace, account name, ok, error text or None)
RequestListener = Callable[[str, str, bool, str | None], None]

_listener: list[RequestListener] = []


def set_request_listener(listener: RequestListener | None) -> None:
    """One listener per process (the newest wiring wins: tests build several workers in one process)."""
    _listener[:] = [listener] if listener is not None else []


def request_finished(marketplace: str, account: str, ok: bool, error: str | None = None) -> None:
    for listener in _listener:
        try:
            listener(marketplace, account, ok, error)
        except Exception:  # noqa: S110 - observing must never break a marketplace call
            pass
