"""getOrders query parameters (Orders API v0): which orders a search selects, checked as the reference defines."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from sandboxes.amazon.common import SpApiError, csv_param, parse_iso

ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
)
ORDER_TIME_COLUMNS = {"last_update": "last_update", "purchase_date": "purchase_date"}


def orders_filter(request: Request) -> dict[str, Any]:
    """getOrders filters as the Orders API v0 reference defines them: exactly one of CreatedAfter or
    LastUpdatedAfter, each with its optional ...Before, OrderStatuses, MaxResultsPerPage 1..100."""
    q = request.query_params
    created, updated = q.get("CreatedAfter"), q.get("LastUpdatedAfter")
    if bool(created) == bool(updated):
        raise SpApiError(
            400, "InvalidInput", "Exactly one of CreatedAfter or LastUpdatedAfter must be specified."
        )
    if (q.get("CreatedBefore") and not created) or (q.get("LastUpdatedBefore") and not updated):
        raise SpApiError(
            400, "InvalidInput", "CreatedBefore needs CreatedAfter; LastUpdatedBefore needs LastUpdatedAfter."
        )
    before_raw = q.get("CreatedBefore") if created else q.get("LastUpdatedBefore")
    statuses = csv_param(request, "OrderStatuses")
    unknown = sorted(set(statuses) - set(ORDER_STATUSES))
    if unknown:
        raise SpApiError(400, "InvalidInput", f"Invalid OrderStatuses: {','.join(unknown)}.")
    try:
        size = int(q.get("MaxResultsPerPage", "100"))
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        raise SpApiError(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
    return {
        "col": "purchase_date" if created else "last_update",
        "since": parse_iso(created or updated or ""),
        # Amazon only returns orders at least 2 minutes old; the sandbox has no such lag.
        "before": parse_iso(before_raw) if before_raw else time.time(),
        "statuses": statuses,
        "size": size,
        "after": None,
    }
