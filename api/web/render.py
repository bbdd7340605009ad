"""Jinja2 templates and the response headers every page carries."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from api.web.formatting import Formatter

HERE = Path(__file__).resolve().parent


def _template_dirs() -> list[Path]:
    """The shared layout and macros, then each feature's own `templates/` (its pages are named
    "<feature>/<page>.html", so features never shadow each other)."""
    from workers.registry import FEATURES

    dirs = [HERE / "templates"]
    for f in FEATURES:
        if f.templates:
            spec = importlib.util.find_spec(f.templates)
            if spec is None or not spec.submodule_search_locations:
                raise ValueError(f"feature {f.name}: templates package {f.templates!r} not found")
            dirs.append(Path(next(iter(spec.submodule_search_locations))) / "templates")
    return dirs


templates = Jinja2Templates(directory=_template_dirs())


def _fmt(ctx: Any) -> Formatter:
    fmt = ctx.get("fmt")
    return fmt if isinstance(fmt, Formatter) else Formatter()


# Filters for the features' own pages, formatted like the approver pages (the page's locale and time zone)
@pass_context
def _when(ctx: Any, value: datetime | None) -> Markup:
    return _fmt(ctx).moment(value)


@pass_context
def _plain(ctx: Any, value: Any) -> str:
    return _fmt(ctx).number(value)


@pass_context
def _compact(ctx: Any, details: Any, limit: int = 160) -> str:
    """An audit entry's details on one line, for people: "key: value · key: value"."""
    if not isinstance(details, dict):
        return _fmt(ctx).number(details)
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k} {_fmt(ctx).number(v)}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            text = ", ".join(_fmt(ctx).number(v) for v in value)
        else:
            text = _fmt(ctx).number(value)
        parts.append(
            f"{str(key).replace('_', ' ')}: {text if len(text) <= limit else text[: limit - 1] + '…'}"
        )
    return " · ".join(parts)


templates.env.filters.update(when=_when, plain=_plain, compact=_compact)

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


def formatter(request: Request) -> Formatter:
    """Money, numbers and moments for this page, in the configured locale, time zone and default currency."""
    fmt = getattr(request.state, "formatter", None)
    if fmt is None:
        settings = request.app.state.settings
        fmt = Formatter(locale=settings.locale, time_zone=settings.time_zone, currency=settings.currency)
        request.state.formatter = fmt
    return fmt  # type: ignore[no-any-return]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ws = getattr(request.state, "web_session", None)
    ctx = {
        "user": ws.user if ws else None,
        "csrf_token": ws.csrf if ws else "",
        "fmt": formatter(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def render_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message, "status": status}, status)
