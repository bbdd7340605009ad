"""The one shape of every sandbox's test extras, whatever the marketplace, so tests, benchmarks and the demo drive
the four sandboxes alike:

- POST /_sandbox/seed    {"listings": [{"sku", "title", "price", "quantity", "identifiers"}], "replace": false}
                         -> 200 {"seeded": n}
- GET  /_sandbox/listings?sku=&limit=
                         -> 200 {"listings": [{"sku", "title", "price", "currency", "quantity", "status", "active",
                                               ...marketplace-specific ids}]}
                         (`price` a decimal string or null; `status` the marketplace's own word; `active` whether a
                         buyer can order it)
- POST /_sandbox/orders  {"sku", "quantity", "order_id"?}
                         -> 201 {"order_id", "sku", "quantity", "remaining", "created": true, ...}, or 200 with
                         "created": false when `order_id` was used before (nothing bought twice); 409 when fewer than
                         `quantity` are left, 404 for an unknown SKU (error bodies in the marketplace's own shape).
                         `order_id` is the id the adapter reports for the order (Order.order_id).

Marketplace-specific fields may follow the common ones (older callers read some of them); they never replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse


def seeded(n: int, **extra: Any) -> dict[str, Any]:
    return {"seeded": n, **extra}


def listing_row(
    *,
    sku: str,
    title: str | None,
    price: Decimal | str | float | None,
    quantity: int | None,
    status: str | None,
    active: bool,
    currency: str | None = "USD",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    common = {
        "sku": sku,
        "title": title,
        "price": None if price is None or price == "" else str(price),
        "currency": currency,
        "quantity": quantity,
        "status": status,
        "active": active,
    }
    return {**common, **{k: v for k, v in (extra or {}).items() if k not in common}}


def listings(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"listings": rows}


def order_placed(
    *,
    order_id: str | int,
    sku: str,
    quantity: int,
    remaining: int | None,
    created: bool,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    common = {
        "order_id": str(order_id),
        "sku": sku,
        "quantity": quantity,
        "remaining": remaining,
        "created": created,
    }
    body = {**common, **{k: v for k, v in (extra or {}).items() if k not in common}}
    return JSONResponse(body, status_code=201 if created else 200)
