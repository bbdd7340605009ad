"""Jinja2 templates and the response headers every page carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

# Pages carry approve buttons: no framing (clickjacking), no caching of decisions on shared devices, and no
# Referer, which would leak a signed link's token to image hosts shown as evidence.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _age(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _plain(value: Any) -> str:
    """One value as text: Decimal without exponent noise, floats trimmed."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    return str(value)


def _compact(details: dict[str, Any], limit: int = 160) -> str:
    """An audit entry's details on one line; nested values as short JSON."""
    parts = []
    for key, value in details.items():
        text = (
            json.dumps(value, default=str, separators=(",", ":"))
            if isinstance(value, dict | list)
            else _plain(value)
        )
        parts.append(f"{key}: {text if len(text) <= limit else text[: limit - 1] + '…'}")
    return " · ".join(parts)


def _is_image(value: Any) -> bool:
    return isinstance(value, str) and value.lower().split("?")[0].endswith(
        (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif")
    )


templates.env.filters["age"] = _age
templates.env.filters["when"] = _when
templates.env.filters["plain"] = _plain
templates.env.filters["compact"] = _compact
templates.env.tests["image_url"] = _is_image
templates.env.tests["mapping_like"] = lambda v: isinstance(v, dict)
templates.env.tests["list_like"] = lambda v: isinstance(v, list | tuple)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ws = getattr(request.state, "web_session", None)
    ctx = {
        "user": ws.user if ws else None,
        "csrf_token": ws.csrf if ws else "",
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def render_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message, "status": status}, status)
