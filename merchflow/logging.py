"""structlog configured once per process; stdlib loggers (temporalio, uvicorn, httpx) share the same chain.

JSON lines when stderr is not a TTY (services, CI), coloured console output otherwise. Every line logged
inside a Temporal activity or workflow carries its workflow / activity ids.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False

# Never log these keys' values even if a caller passes them by mistake.
_SECRET_KEYS = frozenset({"password", "token", "secret", "authorization", "api_key", "client_secret"})


def _add_temporal_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # Imported lazily: importing temporalio here at module import time would slow every CLI start.
    from temporalio import activity

    if activity.in_activity():
        info = activity.info()
        event_dict.setdefault("workflow_id", info.workflow_id)
        event_dict.setdefault("workflow_run_id", info.workflow_run_id)
        event_dict.setdefault("activity_id", info.activity_id)
        event_dict.setdefault("activity_type", info.activity_type)
        event_dict.setdefault("attempt", info.attempt)
    record = event_dict.get("_record")
    if record is not None:
        # temporalio's workflow.logger / activity.logger attach their context as `extra`.
        for attr in ("temporal_workflow", "temporal_activity"):
            ctx = getattr(record, attr, None)
            if isinstance(ctx, dict):
                for key, value in ctx.items():
                    event_dict.setdefault(key, value)
    return event_dict


def _redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "***"
    return event_dict


def configure_logging(level: str = "INFO", json: bool | None = None, force: bool = False) -> None:
    global _configured
    if _configured and not force:
        return
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_temporal_context,
        _redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=True)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio", "httpx", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # httpx logs every request line at INFO, with URLs that may carry query secrets: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name, **initial)
