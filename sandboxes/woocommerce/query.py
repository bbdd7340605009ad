"""Query-string parameters and paging the way the WP REST API validates and answers them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from sandboxes.woocommerce.errors import WooError, invalid_param, json_response

SECRET_PARAMS = ("consumer_key", "consumer_secret")


def int_param(q: QueryParams, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = q.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None
    if value < lo or (hi is not None and value > hi):
        bound = (
            f"between {lo} (inclusive) and {hi} (inclusive)"
            if hi is not None
            else f"greater than or equal to {lo}"
        )
        raise invalid_param(name, f"{name} must be {bound}")
    return value


def enum_param(q: QueryParams, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = q.get(name, default)
    if value not in allowed:
        raise invalid_param(name, f"{name} is not one of {', '.join(allowed)}.")
    return value


def date_param(q: QueryParams, name: str) -> str | None:
    """ISO 8601 -> the stored form (UTC, second precision). The sandbox site runs on UTC, so local == GMT."""
    raw = q.get(name)
    if raw is None:
        return None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_param(name, "Invalid date.") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def ids_param(q: QueryParams, name: str) -> list[int]:
    raw = q.get(name)
    if not raw:
        return []
    try:
        return [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise invalid_param(name, f"{name}[0] is not of type integer.") from None


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.") from None


def select_fields(request: Request, payload: Any) -> Any:
    """WP REST's global `_fields=a,b` parameter: answer only those top-level fields of each object."""
    raw = request.query_params.get("_fields")
    if not raw:
        return payload
    keep = {f.strip().split(".")[0] for f in raw.split(",") if f.strip()}
    if isinstance(payload, list):
        return [{k: v for k, v in obj.items() if k in keep} for obj in payload]
    return {k: v for k, v in payload.items() if k in keep}


def paged(request: Request, items: list[Any], *, total: int, page: int, per_page: int) -> Response:
    pages = math.ceil(total / per_page) if total else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    links = []
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in (*SECRET_PARAMS, "page")]
    base = str(request.url.replace(query=None))
    for rel, target in (("prev", page - 1), ("next", page + 1)):
        if 1 <= target <= pages or (rel == "prev" and target > pages >= 1):
            qs = urlencode([*params, ("page", str(min(target, pages)))])
            links.append(f'<{base}?{qs}>; rel="{rel}"')
    if links:
        headers["Link"] = ", ".join(links)
    return json_response(select_fields(request, items), headers=headers)


def order_by(q: QueryParams, allowed: dict[str, str], default: str = "date") -> str:
    key = enum_param(q, "orderby", default, tuple(allowed))
    direction = enum_param(q, "order", "desc", ("asc", "desc")).upper()
    return f"{allowed[key]} {direction}, id {direction}"


def where_dates(q: QueryParams, where: list[str], args: list[Any]) -> None:
    """after / before filter the creation date, modified_after / modified_before the last change (exclusive)."""
    for name, col, op in (
        ("after", "date_created", ">"),
        ("before", "date_created", "<"),
        ("modified_after", "date_modified", ">"),
        ("modified_before", "date_modified", "<"),
    ):
        value = date_param(q, name)
        if value is not None:
            where.append(f"{col} {op} ?")
            args.append(value)
